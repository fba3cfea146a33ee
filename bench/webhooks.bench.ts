// The merchant webhooks' figures, printed, asserting nothing (docs/webhooks.md, "Throughput"): how many
// webhooks per second the ledger delivers to a local receiver that verifies each signature, and the delay
// from a payment's commit to the first attempt of its `order.delivery_requested`. The baseline, in the same
// run: the same receiver fed signed POSTs by a bare loop with the same concurrency, no database. Runs on
// PostgreSQL (a scratch database on 127.0.0.1:5432, TEST_DATABASE_ADMIN_URL to change it) and on the
// embedded database. BENCH_ORDERS (default 1,000) orders, each placed then paid by 16 writers: three
// webhooks each (order.paid, order.delivery_requested, order.delivered); then 100 orders paid one at a time,
// for the delay without a backlog.
//
//   npm run bench:webhooks
import 'reflect-metadata';
import { createHmac } from 'node:crypto';
import { createServer, request as httpRequest, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { CommandBus } from '@nestjs/cqrs';
import { PlaceOrderCommand, RecordTradeStatusCommand, type CommandContext } from '@ledger/commands';
import { DEMO_ALIPAY, LedgerLogger, loadConfig } from '@ledger/platform';
import { createTestDatabase, type TestDatabase } from '@ledger/testing';
import { createLedgerApp } from '../apps/ledger/src/ledger-app';

const ORDERS = Number(process.env.BENCH_ORDERS ?? 1_000);
const WRITERS = 16;
const PACED = 100;
const CONCURRENCY = 16;
const SECRET = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
const KEY = Buffer.from(SECRET.slice('whsec_'.length), 'base64');

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${sorted[sorted.length - 1].toFixed(1)} ms`;
}

/** A receiver that checks each signature with its own HMAC and notes when each webhook first came. */
class Receiver {
  readonly first = new Map<string, number>();
  readonly firstRequested = new Map<string, number>();
  received = 0;
  bad = 0;
  firstAt = 0;
  lastAt = 0;
  private constructor(private readonly server: Server) {}

  static async start(): Promise<Receiver> {
    const server = createServer();
    const receiver = new Receiver(server);
    server.on('request', (request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const now = performance.now();
        const body = Buffer.concat(chunks);
        const id = String(request.headers['webhook-id']);
        const expected = createHmac('sha256', KEY)
          .update(`${id}.${String(request.headers['webhook-timestamp'])}.`)
          .update(body)
          .digest('base64');
        if (String(request.headers['webhook-signature']) !== `v1,${expected}`) receiver.bad++;
        receiver.received++;
        if (receiver.firstAt === 0) receiver.firstAt = now;
        receiver.lastAt = now;
        if (!receiver.first.has(id)) {
          receiver.first.set(id, now);
          const event = JSON.parse(body.toString('utf8')) as { type: string; data: { outTradeNo?: string } };
          if (event.type === 'order.delivery_requested' && event.data.outTradeNo !== undefined) {
            receiver.firstRequested.set(event.data.outTradeNo, now);
          }
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(`{"reference":"B-${receiver.received}"}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhooks`;
  }

  reset(): void {
    this.first.clear();
    this.firstRequested.clear();
    this.received = this.bad = this.firstAt = this.lastAt = 0;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** The bare loop: signed POSTs of a webhook-sized body, `CONCURRENCY` at a time, keep-alive. */
async function baseline(receiver: Receiver, count: number): Promise<number> {
  const agent = new Agent({ keepAlive: true });
  const url = new URL(receiver.url);
  const body = JSON.stringify({
    type: 'order.paid',
    timestamp: new Date().toISOString(),
    data: { pad: 'x'.repeat(600) },
  });
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const id = `msg_baseline${next++}`;
      const timestamp = String(Math.floor(Date.now() / 1000));
      const signature = createHmac('sha256', KEY).update(`${id}.${timestamp}.${body}`).digest('base64');
      await new Promise<void>((resolve, reject) => {
        const request = httpRequest(url, {
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': timestamp,
            'webhook-signature': `v1,${signature}`,
          },
        });
        request.on('response', (response) => {
          response.resume();
          response.on('end', resolve);
        });
        request.on('error', reject);
        request.end(body);
      });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  agent.destroy();
  return count / ((performance.now() - started) / 1000);
}

function commandsFor(i: number, run: string): [PlaceOrderCommand, RecordTradeStatusCommand] {
  const outTradeNo = `WH-${run}-${i}`;
  const now = new Date().toISOString();
  const context: CommandContext = { causationId: `bench-${run}-${i}` };
  return [
    new PlaceOrderCommand(
      {
        type: 'PlaceOrder',
        outTradeNo,
        subject: 'Annual membership',
        totalFee: 12_000,
        service: 'create_direct_pay_by_user',
        sellerId: DEMO_ALIPAY.partner,
        requestParameters: { out_trade_no: outTradeNo, total_fee: '120.00' },
        placedAt: now,
      },
      context,
    ),
    new RecordTradeStatusCommand(
      {
        type: 'RecordTradeStatus',
        outTradeNo,
        tradeNo: `2026120722001004${String(i).padStart(12, '0')}`,
        tradeStatus: 'TRADE_SUCCESS',
        totalFee: 12_000,
        sellerId: DEMO_ALIPAY.partner,
        buyer: { id: '2088102122524333' },
        times: { gmtPayment: now },
        notifyId: `wh-${run}-${i}`,
        notifyTime: now,
        source: 'notify',
      },
      context,
    ),
  ];
}

async function run(kind: 'postgres' | 'embedded', receiver: Receiver): Promise<void> {
  process.env.TEST_DATABASE = kind === 'postgres' ? 'postgres' : '';
  let database: TestDatabase;
  try {
    database = await createTestDatabase('bench_webhooks');
  } catch (error) {
    console.log(`${kind}: skipped (${String(error)})`);
    return;
  }
  const config = loadConfig(
    {
      ADMIN_TOKEN: 'bench-webhooks-admin-token-00000001',
      LOG_LEVEL: 'warn',
      MERCHANT_WEBHOOK_URL: receiver.url,
      MERCHANT_WEBHOOK_SECRET: SECRET,
      MERCHANT_WEBHOOK_CONCURRENCY: String(CONCURRENCY),
    },
    { envFile: false },
  );
  const ledger = await createLedgerApp(config, { database, logger: new LedgerLogger('warn') });
  receiver.reset();
  try {
    await ledger.app.init();
    const commands = ledger.app.get(CommandBus);
    const paidAt = new Map<string, number>();
    let next = 0;
    const writer = async () => {
      while (next < ORDERS) {
        const i = next++;
        const [place, pay] = commandsFor(i, kind);
        await commands.execute(place);
        await commands.execute(pay);
        paidAt.set(`WH-${kind}-${i}`, performance.now());
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: WRITERS }, writer));
    const written = performance.now();
    const expected = ORDERS * 3;
    const deadline = Date.now() + 300_000;
    while (receiver.first.size < expected && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const delays = [...paidAt].flatMap(([outTradeNo, at]) => {
      const first = receiver.firstRequested.get(outTradeNo);
      return first === undefined ? [] : [first - at];
    });
    const seconds = (receiver.lastAt - started) / 1000;
    console.log(
      `${kind}: ${receiver.first.size}/${expected} webhooks delivered in ${seconds.toFixed(1)} s from the first ` +
        `order (${Math.round(receiver.first.size / seconds)} webhooks/s, ${Math.round(ORDERS / seconds)} deliveries/s); ` +
        `the ${ORDERS} orders took ${((written - started) / 1000).toFixed(1)} s to write; ` +
        `${receiver.received - receiver.first.size} sent twice, ${receiver.bad} bad signatures`,
    );
    console.log(`${kind}: burst, payment committed → first delivery_requested attempt: ${summary(delays)}`);

    // Paced below the throughput: the delay of one payment, without a backlog ahead of it.
    const paced: number[] = [];
    for (let i = ORDERS; i < ORDERS + PACED; i++) {
      const [place, pay] = commandsFor(i, kind);
      await commands.execute(place);
      await commands.execute(pay);
      const at = performance.now();
      const outTradeNo = `WH-${kind}-${i}`;
      const until = Date.now() + 30_000;
      while (!receiver.firstRequested.has(outTradeNo) && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      paced.push(receiver.firstRequested.get(outTradeNo)! - at);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    console.log(`${kind}: one at a time (${PACED}), payment committed → first attempt: ${summary(paced)}`);
  } finally {
    await ledger.close();
    await database.close();
  }
}

async function main(): Promise<void> {
  console.log(
    `${ORDERS} orders, ${CONCURRENCY} webhooks in flight, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const receiver = await Receiver.start();
  try {
    const rate = await baseline(receiver, ORDERS * 3);
    console.log(
      `baseline: a bare loop of signed POSTs to the same receiver: ${Math.round(rate)} webhooks/s (${receiver.bad} bad)`,
    );
    await run('postgres', receiver);
    await run('embedded', receiver);
  } finally {
    await receiver.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
