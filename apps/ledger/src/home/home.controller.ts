import type { ServerResponse } from 'node:http';
import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { LedgerConfig, pageSecurityHeaders } from '@ledger/platform';
import { demoSandboxUrl } from '../demo/demo-sandbox-url';
import { renderDemoHomePage } from './home-page';

/**
 * `GET /`: in demo mode a page that leads to the order page, the console, the sandbox and the API; in live
 * mode a redirect to the console, the one page meant for a person there, so the root says no more than
 * `/health` does (docs/product-rules.md, "HTTP endpoints").
 */
@ApiExcludeController()
@Controller()
export class HomeController {
  /** The demo's page, rendered once: everything on it is configuration. */
  private readonly demoPage?: string;

  constructor(config: LedgerConfig) {
    if (config.mode !== 'demo') return;
    const sandboxUrl = demoSandboxUrl(config.mode, config.alipay.gateway);
    this.demoPage = renderDemoHomePage({
      orderPage: config.pages.demoPage,
      apiDocs: config.pages.apiDocs,
      ...(sandboxUrl === undefined ? {} : { sandboxUrl }),
    });
  }

  @Get()
  home(@Res() response: ServerResponse): void {
    if (this.demoPage === undefined) {
      response.writeHead(302, { location: '/console', 'cache-control': 'no-store' });
      response.end();
      return;
    }
    response.writeHead(200, pageSecurityHeaders([]));
    response.end(this.demoPage);
  }
}
