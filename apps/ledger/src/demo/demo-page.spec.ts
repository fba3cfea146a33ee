import { DEFAULT_DEMO_FORM, readDemoForm, renderDemoPage, toYuanString } from './demo-page';

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

  it('completes whole and one-decimal yuan, and leaves the rest to the order validation', () => {
    expect(toYuanString('12')).toBe('12.00');
    expect(toYuanString('12.5')).toBe('12.50');
    expect(toYuanString('0.01')).toBe('0.01');
    expect(toYuanString('012')).toBe('012');
    expect(toYuanString('1.234')).toBe('1.234');
    expect(toYuanString('-1')).toBe('-1');
  });
});
