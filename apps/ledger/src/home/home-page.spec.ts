import { DEFAULT_ALIPAY_GATEWAY } from '@ledger/platform';
import { demoSandboxUrl } from '../demo/demo-sandbox-url';
import { renderDemoHomePage } from './home-page';

const hrefs = (html: string) => [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1]);

describe("the demo's home page", () => {
  it('links to what the configuration serves, the sandbox when there is one', () => {
    expect(
      hrefs(renderDemoHomePage({ orderPage: true, apiDocs: true, sandboxUrl: 'http://127.0.0.1:3001' })),
    ).toEqual(['/demo', '/console', 'http://127.0.0.1:3001/', '/docs']);
    expect(hrefs(renderDemoHomePage({ orderPage: false, apiDocs: false }))).toEqual(['/console']);
  });

  it('escapes the sandbox address', () => {
    const html = renderDemoHomePage({ orderPage: false, apiDocs: false, sandboxUrl: 'http://x/"><b>' });
    expect(html).not.toContain('"><b>');
    expect(html).toContain('http://x/&quot;&gt;&lt;b&gt;/');
  });
});

describe("the demo's sandbox address", () => {
  it("is the gateway's base in demo mode, for the sandbox beside the ledger or one elsewhere", () => {
    expect(demoSandboxUrl('demo', 'http://127.0.0.1:3001/gateway.do')).toBe('http://127.0.0.1:3001');
    expect(demoSandboxUrl('demo', 'https://sandbox.example.com/alipay/gateway.do')).toBe(
      'https://sandbox.example.com/alipay',
    );
  });

  it("is unknown in live mode, for Alipay's own gateway, and for a gateway that is not a gateway.do", () => {
    expect(demoSandboxUrl('live', 'http://127.0.0.1:3001/gateway.do')).toBeUndefined();
    expect(demoSandboxUrl('demo', DEFAULT_ALIPAY_GATEWAY)).toBeUndefined();
    expect(demoSandboxUrl('demo', 'http://127.0.0.1:3001/pay')).toBeUndefined();
  });
});
