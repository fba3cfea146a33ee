import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { formatBeijingTime } from '@ledger/alipay-protocol';
import {
  asOrderEvent,
  evolveOrder,
  initialOrderState,
  LEDGER_EVENT_CATALOGUE,
  type OrderState,
} from '@ledger/domain';
import { EventSchemas, EventStore, Projector } from '@ledger/event-store';
import { PostgresStreamSession, decideOnStream, orderStream, type PlaceOrderCommand } from '@ledger/commands';
import { LEDGER_PROJECTIONS } from '@ledger/projections';
import {
  createTestDatabase,
  describeOnPostgres,
  freePort,
  newNotifyId,
  newTradeNo,
  postNotification,
  signedNotification,
  startFakeAlipayGateway,
  type FakeAlipayGateway,
  type SignedNotification,
  type TestDatabase,
} from '@ledger/testing';
import { ADMIN_TOKEN, placeOrder, tradeNotification } from './alipay-notify.fixture';

// Several ledger processes on one PostgreSQL behave as one (docs/operations.md, "Several instances"). Three
// instances run as child processes; every notification is sent to all three at once, twice, and again
// (to all) until one answers `success`, as Alipay retries; one instance, with webhooks in flight, is
// killed with SIGKILL while the payments arrive and started again. Then payments are refunded in full:
// each refund batch is POSTed with one Idempotency-Key to all three instances at once, and its result sent
// to all three, twice. In the end: exactly one fact per notification, every acknowledged notification
// applied, every projection equal to a fresh fold of the streams, every delivery and return done once.

const ROOT = join(__dirname, '..');
const ORDERS = 48;
/** The first REFUNDED orders are refunded in full after delivery, in batches of BATCH_SIZE. */
const REFUNDED = 12;
const BATCH_SIZE = 4;
const INSTANCES = 3;
/** Notifications in flight at once, each sent to every instance. */
const CONCURRENCY = 6;
/** The kill comes once this many payments were acknowledged: mid-load, decided by progress. */
const KILL_AFTER_ACKNOWLEDGED = ORDERS / 3;
const TOTAL_FEE = '12.34';
/** Alipay retries a notification nobody acknowledged, minutes later; here sooner, to keep the test short. */
const RETRY_MS = 200;
/** Long enough for the fulfilment lease of a killed holder to expire and be taken over (30 s ttl). */
const WORK_TIMEOUT_MS = 60_000;
const NOPWD = 'refund_fastpay_by_platform_nopwd';

interface LogLine {
  /** `instance#incarnation`: which process wrote it. */
  by: string;
  msg: string;
  outTradeNo?: string;
}

/** A ledger process (`apps/ledger/src/main.ts`) on the shared database, started again on the same port. */
class LedgerInstance {
  incarnation = 0;
  private child?: ChildProcess;
  private exited?: Promise<number | null>;
  private stderr = '';

  constructor(
    readonly name: string,
    private readonly env: Record<string, string>,
    readonly baseUrl: string,
    private readonly log: LogLine[],
  ) {}

  get label(): string {
    return `${this.name}#${this.incarnation}`;
  }

  async start(): Promise<void> {
    this.incarnation++;
    const by = this.label;
    this.stderr = '';
    const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/ledger/src/main.ts'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The JSON log lines, kept for the failure messages.
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      let record: { msg?: unknown; outTradeNo?: unknown };
      try {
        record = JSON.parse(line) as typeof record;
      } catch {
        // Lines are single writes well under a pipe's atomic 4 KiB, so a kill cannot cut one.
        record = { msg: `unreadable log line: ${line}` };
      }
      if (typeof record.msg !== 'string') return;
      this.log.push({
        by,
        msg: record.msg,
        ...(typeof record.outTradeNo === 'string' ? { outTradeNo: record.outTradeNo } : {}),
      });
    });
    child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    for (;;) {
      const up = await fetch(`${this.baseUrl}/health`).then(
        (response) => response.ok,
        () => false,
      );
      if (up) return;
      const gone = await Promise.race([this.exited, sleep(200).then(() => 'waiting')]);
      if (gone !== 'waiting') throw new Error(`${by} exited with ${String(gone)} at start: ${this.stderr}`);
    }
  }

  /** SIGKILL: no shutdown hook runs, the lease is not given back, in-flight requests are cut. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<number | null> {
    if (this.child?.exitCode !== null || this.child.signalCode !== null) return this.child?.exitCode ?? null;
    this.child.kill('SIGTERM');
    return (await this.exited) ?? null;
  }
}

/** A notification to deliver to every instance, and who acknowledged it. */
interface Delivery {
  path: '/alipay/notify' | '/alipay/refund-notify';
  notification: SignedNotification;
  notifyId: string;
  acknowledgedBy: string[];
}

interface Replies {
  success: number;
  fail: number;
  /** No reply: the instance was down, or the connection was cut. */
  none: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(100);
  }
}

/** Runs `work` on every item, `concurrency` at a time. */
async function inParallel<T>(items: readonly T[], concurrency: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** The rows of a table in key order, as the database returns them. */
function rows(database: TestDatabase, table: string, key: string): Promise<Record<string, unknown>[]> {
  return database.dataSource.query(`SELECT * FROM ${table} ORDER BY ${key}`);
}

describeOnPostgres('several ledger instances on one PostgreSQL', () => {
  let gateway: FakeAlipayGateway;
  let database: TestDatabase;
  let store: EventStore;
  const log: LogLine[] = [];
  const instances: LedgerInstance[] = [];

  beforeAll(async () => {
    gateway = await startFakeAlipayGateway();
    database = await createTestDatabase('multi_instance');
    store = new EventStore(database.dataSource, new EventSchemas(LEDGER_EVENT_CATALOGUE));
    for (let i = 1; i <= INSTANCES; i++) {
      const port = await freePort();
      instances.push(
        new LedgerInstance(
          `instance-${i}`,
          {
            DATABASE_URL: database.url!,
            PORT: String(port),
            HOST: '127.0.0.1',
            LEDGER_MODE: 'demo',
            ADMIN_TOKEN,
            ALIPAY_GATEWAY: gateway.url,
            LOG_LEVEL: 'info',
            FULFILMENT_WORKER: 'true',
            // The demo shop answers at once; a claim the kill left behind expires 10 s after this.
            MERCHANT_WEBHOOK_TIMEOUT_MS: '3000',
          },
          `http://127.0.0.1:${port}`,
          log,
        ),
      );
    }
  });

  afterAll(async () => {
    for (const instance of instances) await instance.stop().catch(() => undefined);
    await database?.close();
    await gateway?.close();
  });

  it('records one fact per notification, applies every acknowledged one, projects as a fresh fold does, and acts once', async () => {
    const began = Date.now();
    const outTradeNos = Array.from({ length: ORDERS }, (_, i) => `MULTI-${String(i).padStart(3, '0')}`);
    const session = new PostgresStreamSession(store);
    const commands = {
      execute: ({ command }: PlaceOrderCommand) => decideOnStream(session, orderStream, command, {}),
    };
    for (const outTradeNo of outTradeNos) await placeOrder(commands, outTradeNo);
    await Promise.all(instances.map((instance) => instance.start()));

    const replies: Replies = { success: 0, fail: 0, none: 0 };
    /** Sends to every instance at once, twice, then again until one answers `success`. */
    const deliverEverywhere = async (delivery: Delivery) => {
      const round = () =>
        Promise.all(
          instances.map(async (instance) => {
            const by = instance.label;
            const reply = await postNotification(
              `${instance.baseUrl}${delivery.path}`,
              delivery.notification,
            ).catch(() => undefined);
            if (reply === undefined) replies.none++;
            else if (reply.text === 'success') {
              replies.success++;
              delivery.acknowledgedBy.push(by);
            } else replies.fail++;
          }),
        );
      await round();
      await round();
      const deadline = Date.now() + WORK_TIMEOUT_MS;
      while (delivery.acknowledgedBy.length === 0 && Date.now() < deadline) {
        await sleep(RETRY_MS);
        await round();
      }
    };

    // Payments, with one instance killed and started again while they arrive.
    const tradeNos = new Map(outTradeNos.map((outTradeNo) => [outTradeNo, newTradeNo()]));
    const payments: Delivery[] = outTradeNos.map((outTradeNo) => {
      const notification = tradeNotification({
        outTradeNo,
        tradeNo: tradeNos.get(outTradeNo)!,
        tradeStatus: 'TRADE_SUCCESS',
        totalFee: TOTAL_FEE,
      });
      return { path: '/alipay/notify', notification, notifyId: notifyIdOf(notification), acknowledgedBy: [] };
    });
    let killed: { label: string; acknowledgedBefore: number } | undefined;
    let killing: Promise<void> | undefined;
    const killOne = async () => {
      // Every instance claims webhooks and serves notifications alike: the first one goes.
      const victim = instances[0];
      killed = {
        label: victim.label,
        acknowledgedBefore: payments.filter((p) => p.acknowledgedBy.length > 0).length,
      };
      await victim.kill();
      await victim.start();
    };
    await inParallel(payments, CONCURRENCY, async (payment) => {
      await deliverEverywhere(payment);
      const acknowledged = payments.filter((p) => p.acknowledgedBy.length > 0).length;
      if (acknowledged >= KILL_AFTER_ACKNOWLEDGED) killing ??= killOne();
    });
    await killing;
    const paymentsDone = Date.now();
    expect(killed).toBeDefined();
    expect(payments.filter((p) => p.acknowledgedBy.length === 0)).toEqual([]);

    // Every paid order delivered: another instance takes over the webhooks the killed one had claimed.
    const countOf = async (type: string, streams: readonly string[]) => {
      const [{ count }] = await database.dataSource.query<{ count: string }[]>(
        `SELECT count(DISTINCT stream_id) AS count FROM events WHERE type = $1 AND stream_id = ANY($2::text[])`,
        [type, streams.map((outTradeNo) => `order-${outTradeNo}`)],
      );
      return Number(count);
    };
    await until(
      async () => (await countOf('DeliveryCompleted', outTradeNos)) === ORDERS,
      WORK_TIMEOUT_MS,
      'every delivery',
    );
    const deliveredMs = Date.now() - paymentsDone;

    // Refunds in full, each batch POSTed with one key to every instance at once; retried while in progress.
    const refunded = outTradeNos.slice(0, REFUNDED);
    const batches: string[][] = [];
    for (let i = 0; i < refunded.length; i += BATCH_SIZE) batches.push(refunded.slice(i, i + BATCH_SIZE));
    const batchNos: string[] = [];
    const refundStatuses: number[] = [];
    for (const [index, batch] of batches.entries()) {
      const body = JSON.stringify({
        mode: 'nopwd',
        items: batch.map((outTradeNo) => ({ outTradeNo, amount: TOTAL_FEE, reason: 'returned' })),
      });
      const answers = await Promise.all(
        instances.map(async (instance) => {
          for (let attempt = 0; attempt < 50; attempt++) {
            const response = await fetch(`${instance.baseUrl}/refunds`, {
              method: 'POST',
              headers: {
                authorization: `Bearer ${ADMIN_TOKEN}`,
                'content-type': 'application/json',
                'idempotency-key': `multi-instance-batch-${index}`,
              },
              body,
            });
            refundStatuses.push(response.status);
            const answer = (await response.json()) as { batchNo?: string; state?: string };
            if (response.status !== 409) return { status: response.status, ...answer };
            await sleep(RETRY_MS);
          }
          throw new Error(`POST /refunds stayed 409 on ${instance.label}`);
        }),
      );
      // One batch for the key, whichever instance made it (201, or 202 when its own call is still unanswered);
      // the others answer it as it stands: accepted (200), or still submitted (202).
      const statuses = answers.map(({ status }) => status);
      expect(statuses.filter((status) => status === 201).length).toBeLessThanOrEqual(1);
      expect(statuses.every((status) => status === 200 || status === 201 || status === 202)).toBe(true);
      expect(new Set(answers.map(({ batchNo }) => batchNo)).size).toBe(1);
      for (const { status, state } of answers) expect(state).toBe(status === 202 ? 'submitted' : 'accepted');
      batchNos.push(answers[0].batchNo!);
    }
    const results: Delivery[] = batches.map((batch, index) => {
      const notification = signedNotification({
        notify_time: formatBeijingTime(new Date()),
        notify_type: 'batch_refund_notify',
        notify_id: newNotifyId(),
        batch_no: batchNos[index],
        success_num: String(batch.length),
        result_details: batch
          .map((outTradeNo) => `${tradeNos.get(outTradeNo)}^${TOTAL_FEE}^SUCCESS`)
          .join('#'),
      });
      return {
        path: '/alipay/refund-notify',
        notification,
        notifyId: notifyIdOf(notification),
        acknowledgedBy: [],
      };
    });
    await inParallel(results, CONCURRENCY, deliverEverywhere);
    expect(results.filter((r) => r.acknowledgedBy.length === 0)).toEqual([]);
    await until(
      async () => (await countOf('ReturnCompleted', refunded)) === REFUNDED,
      WORK_TIMEOUT_MS,
      'every return',
    );

    // Everything projected, then every instance stopped as an operator stops it.
    const projector = new Projector(database.dataSource, LEDGER_PROJECTIONS, {
      schemas: new EventSchemas(LEDGER_EVENT_CATALOGUE),
    });
    await until(
      async () => {
        for (const { name } of LEDGER_PROJECTIONS) if ((await projector.lag(name)).events > 0) return false;
        return true;
      },
      WORK_TIMEOUT_MS,
      'the projections catching up',
    );
    // The kill may cut an attempt after its answer was recorded on the order and before the webhook was
    // marked: its claim expires, and another instance finds it answered (docs/webhooks.md, "Webhooks that act").
    await until(
      async () => {
        const [{ count }] = await database.dataSource.query<{ count: string }[]>(
          `SELECT count(*) AS count FROM webhook_messages
           WHERE event_type IN ('order.delivery_requested', 'order.return_requested')
             AND state IN ('pending', 'delivering')`,
        );
        return count === '0';
      },
      WORK_TIMEOUT_MS,
      "every decision's webhook settled",
    );
    for (const instance of instances) expect(await instance.stop()).toBe(0);

    // Exactly one fact per notification: the order's events as the domain has them, one key per notify_id.
    for (const outTradeNo of outTradeNos) {
      const types = (await store.readStream(`order-${outTradeNo}`)).map((event) => event.type);
      const expected = refunded.includes(outTradeNo)
        ? [
            'OrderPlaced',
            'PaymentSucceeded',
            'DeliveryCompleted',
            'RefundRequested',
            'RefundSucceeded',
            'ReturnCompleted',
          ]
        : ['OrderPlaced', 'PaymentSucceeded', 'DeliveryCompleted'];
      expect({ outTradeNo, types }).toEqual({ outTradeNo, types: expected });
    }
    for (const batchNo of batchNos) {
      const types = (await store.readStream(`refund-batch-${batchNo}`)).map((event) => event.type);
      expect({ batchNo, types }).toEqual({
        batchNo,
        types: ['RefundBatchSubmitted', 'RefundBatchAccepted', 'RefundBatchCompleted'],
      });
    }
    const sent = [...payments, ...results];
    const keys = await database.dataSource.query<{ notify_id: string; outcome: string }[]>(
      `SELECT p.notify_id, i.outcome FROM processed_notifications p
       JOIN inbox_notifications i ON i.id = p.inbox_id ORDER BY p.notify_id`,
    );
    expect(keys.sort(byNotifyId)).toEqual(
      sent.map(({ notifyId }) => ({ notify_id: notifyId, outcome: 'applied' })).sort(byNotifyId),
    );
    // Every other row of a notify_id is a duplicate, or was cut by the kill (Alipay's retry was applied).
    const inbox = await database.dataSource.query<
      { notify_id: string; applied: string; received: string; rows: string }[]
    >(
      `SELECT notify_id, count(*) FILTER (WHERE outcome = 'applied') AS applied,
              count(*) FILTER (WHERE outcome = 'received') AS received, count(*) AS rows
       FROM inbox_notifications GROUP BY notify_id ORDER BY notify_id`,
    );
    const applied = inbox.map(({ notify_id, applied }) => ({ notify_id, applied: Number(applied) }));
    expect(applied.sort(byNotifyId)).toEqual(
      sent.map(({ notifyId }) => ({ notify_id: notifyId, applied: 1 })).sort(byNotifyId),
    );
    const cutByTheKill = inbox.reduce((sum, row) => sum + Number(row.received), 0);
    expect(cutByTheKill).toBeLessThanOrEqual(CONCURRENCY);
    // Every notification acknowledged, by whichever instance, is applied: its order paid, its batch complete.
    for (const payment of payments) {
      expect(payment.acknowledgedBy.length).toBeGreaterThan(0);
    }
    expect(await countOf('PaymentSucceeded', outTradeNos)).toBe(ORDERS);
    expect(await countOf('RefundSucceeded', refunded)).toBe(REFUNDED);

    // Every projection equals a fresh fold: the order's state folded from its stream here, and each table
    // as a rebuild from the first event writes it.
    const orderRows = await rows(database, 'order_status', 'out_trade_no');
    expect(orderRows.map((row) => row.out_trade_no)).toEqual(outTradeNos);
    for (const row of orderRows) {
      const events = await store.readStream(`order-${String(row.out_trade_no)}`);
      const folded = events.reduce<OrderState>((state, event) => {
        const orderEvent = asOrderEvent(event.type, event.data);
        return orderEvent === undefined ? state : evolveOrder(state, orderEvent);
      }, initialOrderState());
      expect({ order: row.out_trade_no, state: row.state, version: row.version }).toEqual({
        order: row.out_trade_no,
        state: JSON.parse(JSON.stringify(folded)),
        version: events.at(-1)!.version,
      });
    }
    const batchRows = await rows(database, 'refund_batches', 'batch_no');
    expect(batchRows.map((row) => row.batch_no)).toEqual([...batchNos].sort());
    for (const { name } of LEDGER_PROJECTIONS) {
      expect(await projector.listParked(name)).toEqual([]);
      const outcome = await projector.rebuild(name);
      expect(outcome.parked).toBe(0);
    }
    expect(await rows(database, 'order_status', 'out_trade_no')).toEqual(orderRows);
    expect(await rows(database, 'refund_batches', 'batch_no')).toEqual(batchRows);

    // Every worker action done once, whichever instance claimed it: one webhook per decision (its id stable
    // across attempts and instances), answered 2xx by one attempt, the delivery or return recorded once
    // (the order streams above). An attempt cut by the kill is recorded `interrupted` by the instance that
    // takes the webhook over (docs/webhooks.md).
    const decisions = await database.dataSource.query<
      {
        subject: string;
        event_type: string;
        state: string;
        note: string | null;
        succeeded: string;
        interrupted: string;
      }[]
    >(
      `SELECT m.subject, m.event_type, m.state, m.note,
              (SELECT count(*) FROM webhook_attempts a WHERE a.message_id = m.id AND a.outcome = 'succeeded')
                AS succeeded,
              (SELECT count(*) FROM webhook_attempts a WHERE a.message_id = m.id AND a.outcome = 'interrupted')
                AS interrupted
       FROM webhook_messages m
       WHERE m.event_type IN ('order.delivery_requested', 'order.return_requested')
       ORDER BY m.event_type, m.subject`,
    );
    const ofType = (type: string) => decisions.filter((row) => row.event_type === type);
    expect(ofType('order.delivery_requested').map((row) => row.subject)).toEqual(outTradeNos);
    expect(ofType('order.return_requested').map((row) => row.subject)).toEqual([...refunded].sort());
    // One 2xx answer per decision: recorded as a succeeded attempt, or, when the kill cut the attempt after
    // its answer was recorded on the order, found answered by the instance that took the webhook over.
    for (const row of decisions) {
      expect(row.state).toBe('succeeded');
      if (row.succeeded !== '1')
        expect(row).toMatchObject({ succeeded: '0', note: expect.stringMatching(/^answered/) });
    }
    const interrupted = decisions.filter((row) => Number(row.interrupted) > 0).length;
    // Each batch sent to the gateway and accepted once, though its request reached three instances.
    expect(new Set(gateway.requestsFor(NOPWD).map((request) => request.params.batch_no))).toEqual(
      new Set(batchNos),
    );
    for (const batchNo of batchNos) expect(gateway.acceptedCount(NOPWD, batchNo)).toBe(1);

    // A run's figures, quoted in docs/operations.md, "Behind a load balancer": printed on request only
    // (TEST_REPORT=1), as they count the `fail` replies and the kill that the test causes on purpose.
    if (process.env.TEST_REPORT === '1') {
      process.stdout.write(
        `several instances: ${ORDERS} payments and ${batches.length} refund results, each sent to ${INSTANCES} ` +
          `instances at once, twice: ${replies.success} success, ${replies.fail} fail, ${replies.none} ` +
          `without a reply; ${killed!.label} killed after ` +
          `${killed!.acknowledgedBefore} payments were acknowledged; ${cutByTheKill} inbox rows cut by the kill; ` +
          `POST /refunds answered ${refundStatuses.join(' ')}; every order delivered ${deliveredMs} ms after ` +
          `the last payment; ${interrupted} webhook attempts cut by the kill; ${Date.now() - began} ms in all\n`,
      );
    }
  });
});

function notifyIdOf(notification: SignedNotification): string {
  return notification.params.find(({ name }) => name === 'notify_id')!.value;
}

function byNotifyId(a: { notify_id: string }, b: { notify_id: string }): number {
  return a.notify_id < b.notify_id ? -1 : a.notify_id > b.notify_id ? 1 : 0;
}
