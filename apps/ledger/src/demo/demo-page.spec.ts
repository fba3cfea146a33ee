import { DEFAULT_DEMO_FORM, readAdminToken, readDemoForm, renderDemoPage, toYuanString } from './demo-page';

const context = { baseUrl: 'http://localhost:3000', gateway: 'http://localhost:3001/gateway.do' };

describe('the demo order page', () => {
  it('is a form that posts to /demo without JavaScript, with both services', () => {
    const html = renderDemoPage(context);
    expect(html).toContain('<form method="post" action="/demo" accept-charset="utf-8">');
    expect(html).toContain('name="service" value="instant" checked');
    expect(html).toContain('name="service" value="escrow">');
    expect(html).not.toContain('<script');
    expect(html).toContain('http://localhost:3000/admin/orders/&lt;outTradeNo&gt;/history');
    expect(html).toContain('href="http://localhost:3001/docs"');
  });

  it('shows a refused order again, escaped, with the error', () => {
    const html = renderDemoPage(
      context,
      { subject: '"><script>alert(1)</script>', amount: "1'2", service: 'escrow' },
      'totalFee: must be <yuan>',
    );
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(html).toContain('value="1&#39;2"');
    expect(html).toContain('totalFee: must be &lt;yuan&gt;');
    expect(html).toContain('name="service" value="escrow" checked');
  });

  it('asks for no token in demo mode', () => {
    expect(renderDemoPage(context)).not.toContain('name="token"');
  });

  it('asks for the admin token in live mode, says the money is real, and links no sandbox', () => {
    const html = renderDemoPage({ ...context, gateway: 'https://mapi.alipay.com/gateway.do', live: true });
    expect(html).toContain('<input type="password" id="token" name="token" required autocomplete="off">');
    expect(html).toContain('paid with real money');
    expect(html).not.toContain('No real money');
    expect(html).not.toContain('sandbox');
    expect(html).not.toContain('https://mapi.alipay.com/docs');
  });

  it('links no control API when the gateway is not a gateway.do', () => {
    expect(renderDemoPage({ ...context, gateway: 'https://example.test/pay' })).not.toContain('/docs"');
  });
});

describe('reading the posted form', () => {
  it('takes single strings only and a known service', () => {
    expect(readDemoForm({ subject: 'tea', amount: ' 12.5 ', service: 'escrow' })).toEqual({
      subject: 'tea',
      amount: '12.5',
      service: 'escrow',
    });
    expect(readDemoForm({ subject: ['a', 'b'], amount: 1, service: 'instant' })).toEqual({
      subject: '',
      amount: '',
      service: 'instant',
    });
    expect(readDemoForm({ ...DEFAULT_DEMO_FORM, service: 'free' })).toEqual({
      error: 'service: choose instant payment or escrow',
    });
    expect(readDemoForm(undefined)).toHaveProperty('error');
  });

  it('reads the admin token as a single string only', () => {
    expect(readAdminToken({ token: 'abc' })).toBe('abc');
    expect(readAdminToken({ token: ['a', 'b'] })).toBe('');
    expect(readAdminToken(undefined)).toBe('');
  });

  it('completes whole and one-decimal yuan, and leaves the rest to the order validation', () => {
    expect(toYuanString('12')).toBe('12.00');
    expect(toYuanString('12.5')).toBe('12.50');
    expect(toYuanString('0.01')).toBe('0.01');
    expect(toYuanString('012')).toBe('012');
    expect(toYuanString('1.234')).toBe('1.234');
    expect(toYuanString('-1')).toBe('-1');
  });
});
