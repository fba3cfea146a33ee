import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { createSandboxApp } from '@ledger/alipay-sandbox';
import { DEMO_ALIPAY, loadConfig } from '@ledger/platform';
import { createTestDatabase, freePort, type TestDatabase } from '@ledger/testing';
import { createLedgerApp, type LedgerApp } from '../apps/ledger/src/ledger-app';

// The ledger and the sandbox wired together over HTTP, as `npm start` runs them in demo mode: the ledger's
// gateway is the sandbox's gateway.do, the sandbox's notifications reach the ledger's notify_url.

export const ADMIN_TOKEN = 'ledger-sandbox-e2e-admin-token-01';

/** A fresh order number, unique across runs. */
export function newOutTradeNo(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** Polls `read` until `done` holds for what it returns; fails with the last value after `timeoutMs`. */
export async function eventually<T>(
  what: string,
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value, null, 1)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface SandboxTrade {
  tradeNo: string;
  outTradeNo: string;
  tradeStatus: string;
  refundStatus?: string;
  paymentType?: string;
  refundedFee: string;
  gmtSendGoods?: string;
  actions: string[];
}

export interface SandboxAttempt {
  round: number;
  copy: number;
  httpStatus?: number;
  reply?: string;
  error?: string;
  acknowledged: boolean;
}

export interface SandboxNotification {
  id: string;
  notifyId: string;
  kind: 'trade_status_sync' | 'batch_refund_notify';
  url: string;
  outTradeNo?: string;
  batchNo?: string;
  tradeStatus?: string;
  refundStatus?: string;
  tags: string[];
  state: 'held' | 'scheduled' | 'acknowledged' | 'abandoned';
  attempts: SandboxAttempt[];
}

/** One request the ledger sent to gateway.do, its parameters read from the query and the form body. */
export interface GatewayCall {
  method: string;
  params: Record<string, string>;
}

/**
 * A pass-through in front of the sandbox that writes down every gateway.do request: the sandbox keeps no
 * log of the calls it receives, and "shipping was confirmed once" is a statement about calls.
 */
class GatewayRecorder {
  readonly calls: GatewayCall[] = [];
  private server!: Server;
  url = '';

  async start(target: URL): Promise<void> {
    this.server = createHttpServer((incoming, outgoing) => {
      const chunks: Buffer[] = [];
      incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
      incoming.on('end', () => {
        const body = Buffer.concat(chunks);
        const path = incoming.url ?? '/';
        if (path.startsWith('/gateway.do')) {
          const query = new URLSearchParams(path.slice(path.indexOf('?') + 1 || path.length));
          const form = new URLSearchParams(body.toString('latin1'));
          this.calls.push({
            method: incoming.method ?? '',
            params: Object.fromEntries([...query, ...form]),
          });
        }
        const forward = httpRequest(
          {
            host: target.hostname,
            port: target.port,
            path,
            method: incoming.method,
            headers: incoming.headers,
          },
          (answer) => {
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(outgoing);
          },
        );
        forward.on('error', () => outgoing.writeHead(502).end());
        forward.end(body);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * The sandbox in this process, on a port of its own, with the demo merchant; the ledger reaches its
 * gateway.do through a recorder (`gatewayCalls`), the control API is asked directly.
 */
export class SandboxUnderTest {
  private constructor(
    readonly app: INestApplication,
    readonly url: string,
    private readonly recorder: GatewayRecorder,
  ) {}

  static async start(timeScale: number): Promise<SandboxUnderTest> {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const app = await createSandboxApp({
      merchants: [{ partner: DEMO_ALIPAY.partner, md5Keys: [DEMO_ALIPAY.md5Key] }],
      publicBaseUrl: url,
      timeScale,
      logger: false,
    });
    await app.listen(port, '127.0.0.1');
    const recorder = new GatewayRecorder();
    await recorder.start(new URL(url));
    return new SandboxUnderTest(app, url, recorder);
  }

  /** The gateway URL to configure in the ledger (ALIPAY_GATEWAY). */
  get gateway(): string {
    return `${this.recorder.url}/gateway.do`;
  }

  /** The gateway.do requests of one service, optionally about one trade_no. */
  gatewayCalls(service: string, tradeNo?: string): GatewayCall[] {
    return this.recorder.calls.filter(
      ({ params }) => params.service === service && (tradeNo === undefined || params.trade_no === tradeNo),
    );
  }

  async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}/sandbox/api${path}`, {
      method,
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as T;
  }

  async trade(outTradeNo: string): Promise<SandboxTrade> {
    const trades = await this.api<SandboxTrade[]>('GET', `/trades?outTradeNo=${outTradeNo}`);
    if (trades.length !== 1) throw new Error(`${trades.length} trades for ${outTradeNo}`);
    return trades[0];
  }

  /** Acts on a trade as its buyer, seller or Alipay; answers the return_url redirect of a payment. */
  async act(tradeNo: string, action: string): Promise<{ returnUrl?: string }> {
    return this.api('POST', `/trades/${tradeNo}/actions/${action}`);
  }

  notifications(outTradeNo: string): Promise<SandboxNotification[]> {
    return this.api('GET', `/notifications?outTradeNo=${outTradeNo}`);
  }

  batchNotifications(batchNo: string): Promise<SandboxNotification[]> {
    return this.api('GET', `/notifications?batchNo=${batchNo}`);
  }

  async chaos(settings: Record<string, unknown>): Promise<void> {
    await this.api('PUT', '/chaos', settings);
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.recorder.close();
  }
}

/** An event as `GET /admin/orders/:outTradeNo/history` shows it. */
export interface HistoryEvent {
  type: string;
  data: Record<string, unknown>;
}

/** What `POST /refunds` answers. */
export interface RefundBatchAnswer {
  batchNo: string;
  state: string;
  reply?: string;
  refundUrl?: string;
  message?: string;
}

/** The fields of `GET /admin/refund-batches/:batchNo` the tests read. */
export interface RefundBatchView {
  batchNo: string;
  state: string | null;
  successNum: number | null;
  anomalies: unknown[];
  items: { outTradeNo: string | null; amount: string | null; result: { code: string } | null }[];
}

/** The fields of `GET /admin/orders/:outTradeNo` the tests read. */
export interface OrderView {
  outTradeNo: string;
  tradeNo: string | null;
  status: string | null;
  tradeStatus: string | null;
  paymentType: string | null;
  totalFee: string | null;
  paidFee: string;
  refundedFee: string;
  delivery: { state: string };
  return: { state: string };
  anomalies: unknown[];
}

/**
 * A ledger on a test database (in demo mode unless `env` gives Alipay credentials), its gateway the sandbox, its notify_url
 * and return_url on a fixed port: it can be stopped and started again on the same database and address,
 * as a server that was down while Alipay retried.
 */
export class LedgerUnderTest {
  private running?: LedgerApp;

  private constructor(
    readonly database: TestDatabase,
    readonly port: number,
    private readonly env: Record<string, string>,
  ) {}

  static async start(
    label: string,
    sandbox: SandboxUnderTest,
    env: Record<string, string> = {},
  ): Promise<LedgerUnderTest> {
    const ledger = new LedgerUnderTest(await createTestDatabase(label), await freePort(), {
      LEDGER_MODE: 'demo',
      ADMIN_TOKEN,
      ALIPAY_GATEWAY: sandbox.gateway,
      LOG_LEVEL: 'fatal',
      ...env,
    });
    await ledger.up();
    return ledger;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The running Nest application, for a test that steps a worker by hand. */
  get nest(): INestApplication {
    if (this.running === undefined) throw new Error('the ledger is down');
    return this.running.app;
  }

  async up(): Promise<void> {
    if (this.running !== undefined) throw new Error('the ledger is already up');
    const config = loadConfig(
      { PUBLIC_BASE_URL: this.baseUrl, ...this.env, PORT: String(this.port) },
      { envFile: false },
    );
    // Closing the application destroyed the pool (Nest's TypeOrmModule); the database itself is still there.
    if (!this.database.dataSource.isInitialized) await this.database.dataSource.initialize();
    const ledger = await createLedgerApp(config, { database: this.database });
    await ledger.app.listen(this.port, '127.0.0.1');
    this.running = ledger;
  }

  /** Stops HTTP, the projector and the fulfilment worker; the database stays. */
  async down(): Promise<void> {
    const running = this.running;
    this.running = undefined;
    await running?.close();
  }

  async close(): Promise<void> {
    await this.down();
    await this.database.close();
  }

  private async admin<T>(path: string): Promise<{ status: number; json: T }> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    return { status: response.status, json: (await response.json()) as T };
  }

  /** `POST /orders`; answers the signed paymentUrl. */
  async placeOrder(
    outTradeNo: string,
    options: { totalFee?: string; service?: 'create_direct_pay_by_user' | 'trade_create_by_buyer' } = {},
  ): Promise<string> {
    const response = await fetch(`${this.baseUrl}/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        outTradeNo,
        subject: `order ${outTradeNo}`,
        totalFee: options.totalFee ?? '12.34',
        service: options.service ?? 'create_direct_pay_by_user',
      }),
    });
    const json = (await response.json()) as { paymentUrl: string };
    if (response.status !== 201) throw new Error(`POST /orders: ${response.status} ${JSON.stringify(json)}`);
    return json.paymentUrl;
  }

  async order(outTradeNo: string): Promise<OrderView> {
    const { status, json } = await this.admin<OrderView>(`/admin/orders/${outTradeNo}`);
    if (status !== 200) throw new Error(`GET /admin/orders/${outTradeNo}: ${status}`);
    return json;
  }

  /** `POST /refunds`: a batch refund of `items` (amounts in yuan). */
  async refund(
    mode: 'pwd' | 'nopwd',
    items: { outTradeNo: string; amount: string; reason: string }[],
  ): Promise<{ status: number; json: RefundBatchAnswer }> {
    const response = await fetch(`${this.baseUrl}/refunds`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ mode, items }),
    });
    return { status: response.status, json: (await response.json()) as RefundBatchAnswer };
  }

  /** `GET /admin/refund-batches/:batchNo`. */
  async refundBatch(batchNo: string): Promise<RefundBatchView> {
    const { status, json } = await this.admin<RefundBatchView>(`/admin/refund-batches/${batchNo}`);
    if (status !== 200) throw new Error(`GET /admin/refund-batches/${batchNo}: ${status}`);
    return json;
  }

  /** The out_trade_no of the order placed last. */
  async newestOrder(): Promise<string | undefined> {
    const { json } = await this.admin<{ items: { outTradeNo: string }[] }>('/admin/orders?limit=1');
    return json.items[0]?.outTradeNo;
  }

  async history(outTradeNo: string): Promise<HistoryEvent[]> {
    const { status, json } = await this.admin<{ events: HistoryEvent[] }>(
      `/admin/orders/${outTradeNo}/history`,
    );
    if (status !== 200) throw new Error(`history of ${outTradeNo}: ${status}`);
    return json.events;
  }

  /** The order's history once it holds every type in `types`. */
  historyWith(outTradeNo: string, ...types: string[]): Promise<HistoryEvent[]> {
    return eventually(
      `the history of ${outTradeNo} holding ${types.join(', ')}`,
      () => this.history(outTradeNo),
      (events) => types.every((type) => events.some((event) => event.type === type)),
    );
  }
}

/** How many events of each type a history holds. */
export function countsOf(events: readonly HistoryEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { type } of events) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Opens the signed payment URL as the buyer's browser does (GET): the sandbox creates the trade. */
export async function openCashier(paymentUrl: string): Promise<string> {
  const response = await fetch(paymentUrl);
  const html = await response.text();
  if (response.status !== 200 || !html.includes('/cashier/')) {
    throw new Error(`the payment URL did not show the cashier: ${response.status} ${html.slice(0, 500)}`);
  }
  return html;
}
