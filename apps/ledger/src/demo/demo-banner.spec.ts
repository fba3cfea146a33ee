import { demoBanner } from './demo-banner';

describe('the demo banner', () => {
  it('names the order page, the sandbox, the history URL and the generated token', () => {
    const text = demoBanner({
      baseUrl: 'http://localhost:3000',
      gateway: 'http://localhost:3001/gateway.do',
      sandboxUrl: 'http://localhost:3001',
      generatedToken: 'tok-123',
    });
    expect(text).toContain('Place a test order:   http://localhost:3000/demo');
    expect(text).toContain(
      'the sandbox at http://localhost:3001 (control API and docs: http://localhost:3001/docs)',
    );
    expect(text).toContain(
      'curl -H "Authorization: Bearer tok-123" http://localhost:3000/admin/orders/<outTradeNo>/history',
    );
    expect(text).toContain('Admin token:          tok-123 (generated for this run');
  });

  it('never prints a token that was configured', () => {
    const text = demoBanner({ baseUrl: 'http://shop.test', gateway: 'http://gw.test/gateway.do' });
    expect(text).toContain('Bearer $ADMIN_TOKEN');
    expect(text).toContain('the ADMIN_TOKEN you set');
    expect(text).toContain('Alipay is played by the gateway at http://gw.test/gateway.do.');
  });
});
