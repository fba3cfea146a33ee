import {
  formatGatewayErrorReply,
  formatSingleTradeQueryReply,
  parseSingleTradeQueryReply,
  type TextParam,
} from '@ledger/alipay-protocol';
import { EventStore } from '@ledger/event-store';
import { DEMO_ALIPAY } from '@ledger/platform';
import {
  createTestDatabase,
  newTradeNo,
  signedNotification,
  startCommandPath,
  tradeStatusSyncParams,
  type CommandPath,
  type TestDatabase,
} from '@ledger/testing';
import { PlaceOrderCommand } from '../orders/order-stream-commands';
import { ReplayNotificationsCommand } from '../replay/replay-notifications';
import { ReconcileSchedule, type ReconcileCandidate } from './reconcile-schedule';
import { RecordTradeQueryCommand, type RecordedQuery, type TradeQueryAnswer } from './record-trade-query';

// The reconciler's write side on a real database: the schedule shared by several workers, and query
// answers recorded beside notifications, each payment once whichever comes first.

let database: TestDatabase;
let path: CommandPath;
let schedule: ReconcileSchedule;
let store: EventStore;

beforeAll(async () => {
  database = await createTestDatabase('reconcile');
  path = await startCommandPath(database);
  schedule = path.module.get(ReconcileSchedule);
  store = path.store;
});

afterAll(async () => {
  await path?.close();
  await database?.close();
});

const HOUR = 3_600_000;

function candidate(outTradeNo: string, overrides: Partial<ReconcileCandidate> = {}): ReconcileCandidate {
  const now = new Date();
  return {
    outTradeNo,
    reason: 'awaiting_payment',
    causeAt: now,
    firstAt: new Date(now.getTime() - 1000),
    ...overrides,
  };
}

async function row(outTradeNo: string): Promise<Record<string, unknown>> {
  const [found] = await database.dataSource.query<Record<string, unknown>[]>(
    `SELECT state, attempts, last_answer, paid_by_query,
            extract(epoch FROM next_at - now()) * 1000 AS due_in_ms
     FROM reconcile_schedule WHERE out_trade_no = $1`,
    [outTradeNo],
  );
  return { ...found, attempts: Number(found.attempts), due_in_ms: Number(found.due_in_ms) };
}

const settled = { answer: 'found', detail: {}, resolved: false, paidByQuery: false };

describe('the reconcile schedule', () => {
  it('gives each due row to one worker only, however many claim at once', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `S-CLAIM-${i}`);
    expect(
      await schedule.enrol(
        names.map((name) => candidate(name)),
        7 * 24 * HOUR,
      ),
    ).toBe(10);
    const workers = await Promise.all([4, 4, 4].map((limit) => schedule.claim(limit, 60_000)));
    const claimed = workers
      .flat()
      .map((c) => c.outTradeNo)
      .filter((name) => name.startsWith('S-CLAIM-'));
    expect(claimed.sort()).toEqual([...names].sort());
    expect(new Set(claimed).size).toBe(10);
    // Held while their queries run: nothing more to claim.
    expect((await schedule.claim(10, 60_000)).filter((c) => c.outTradeNo.startsWith('S-CLAIM-'))).toEqual([]);
  });

  it('makes a row due again when its worker died before settling it (the claim lapses)', async () => {
    await schedule.enrol([candidate('S-LAPSE')], 7 * 24 * HOUR);
    const [first] = (await schedule.claim(50, 50)).filter((c) => c.outTradeNo === 'S-LAPSE');
    expect(first).toMatchObject({ attempts: 1 });
    await new Promise((resolve) => setTimeout(resolve, 120));
    const again = (await schedule.claim(50, 60_000)).filter((c) => c.outTradeNo === 'S-LAPSE');
    expect(again).toEqual([{ outTradeNo: 'S-LAPSE', reason: 'awaiting_payment', attempts: 2 }]);
  });

  it('backs off: an unresolved answer makes the row due after the pause, not before', async () => {
    await schedule.enrol([candidate('S-BACKOFF')], 7 * 24 * HOUR);
    await schedule.claim(50, 60_000);
    await schedule.settle('S-BACKOFF', { ...settled, retryInMs: 600_000 });
    const after = await row('S-BACKOFF');
    expect(after).toMatchObject({ state: 'open', attempts: 1, last_answer: 'found' });
    expect(after.due_in_ms).toBeGreaterThan(590_000);
    expect(after.due_in_ms).toBeLessThanOrEqual(600_000);
    expect((await schedule.claim(50, 60_000)).some((c) => c.outTradeNo === 'S-BACKOFF')).toBe(false);
  });

  it('stops at the horizon: a row whose next query would fall past it expires', async () => {
    await schedule.enrol([candidate('S-HORIZON', { causeAt: new Date(Date.now() - HOUR) })], HOUR + 60_000);
    await schedule.claim(50, 60_000);
    await schedule.settle('S-HORIZON', { ...settled, retryInMs: 300_000 });
    expect(await row('S-HORIZON')).toMatchObject({ state: 'expired' });
    expect((await schedule.claim(50, 60_000)).some((c) => c.outTradeNo === 'S-HORIZON')).toBe(false);
    expect((await schedule.status()).expired).toBeGreaterThanOrEqual(1);
  });

  it('keeps a resolved row closed, and opens it again only for a cause after its settlement', async () => {
    await schedule.enrol([candidate('S-REOPEN', { causeAt: new Date(Date.now() - HOUR) })], 7 * 24 * HOUR);
    await schedule.claim(50, 60_000);
    await schedule.settle('S-REOPEN', { ...settled, resolved: true, retryInMs: 300_000 });
    expect(await row('S-REOPEN')).toMatchObject({ state: 'resolved' });
    const older = candidate('S-REOPEN', { reason: 'notification', causeAt: new Date(Date.now() - 2 * HOUR) });
    expect(await schedule.enrol([older], 7 * 24 * HOUR)).toBe(0);
    const newer = candidate('S-REOPEN', { reason: 'notification', causeAt: new Date(Date.now() + 1000) });
    expect(await schedule.enrol([newer], 7 * 24 * HOUR)).toBe(1);
    expect(await row('S-REOPEN')).toMatchObject({ state: 'open' });
  });
});

const MD5 = { signType: 'MD5' as const, md5Key: DEMO_ALIPAY.md5Key };

/** A signed `T` answer about a trade, read back as the gateway client reads it. */
function found(
  outTradeNo: string,
  tradeNo: string,
  tradeStatus: string,
  options: { key?: string; totalFee?: string } = {},
): TradeQueryAnswer {
  const trade: TextParam[] = [
    { name: 'out_trade_no', value: outTradeNo },
    { name: 'trade_no', value: tradeNo },
    { name: 'trade_status', value: tradeStatus },
    { name: 'total_fee', value: options.totalFee ?? '12.34' },
    { name: 'seller_id', value: DEMO_ALIPAY.partner },
    { name: 'buyer_id', value: '2088202561123456' },
    { name: 'gmt_payment', value: '2024-05-01 10:04:59' },
  ];
  const body = formatSingleTradeQueryReply({
    request: [{ name: 'out_trade_no', value: outTradeNo }],
    trade,
    charset: 'utf-8',
    signingKey: { signType: 'MD5', md5Key: options.key ?? MD5.md5Key },
  });
  if (!body.ok) throw new Error('cannot format the answer');
  return read(body.value);
}

function read(body: Buffer): TradeQueryAnswer {
  const parsed = parseSingleTradeQueryReply(body, {
    signType: 'MD5',
    md5Keys: [MD5.md5Key],
    charset: 'utf-8',
  });
  if (!parsed.ok || parsed.value.status === 'rejected') throw new Error('not an answer');
  return { reply: parsed.value, body, latencyMs: 1 };
}

function record(outTradeNo: string, answer: TradeQueryAnswer, dryRun = false): Promise<RecordedQuery> {
  return path.bus.execute(
    new RecordTradeQueryCommand(outTradeNo, answer, {
      answeredAt: new Date(),
      gatewayPath: '/gateway.do',
      dryRun,
    }),
  );
}

async function placeOrder(outTradeNo: string): Promise<void> {
  await path.bus.execute(
    new PlaceOrderCommand({
      type: 'PlaceOrder',
      outTradeNo,
      subject: `order ${outTradeNo}`,
      totalFee: 1234,
      service: 'create_direct_pay_by_user',
      sellerId: DEMO_ALIPAY.partner,
      requestParameters: { out_trade_no: outTradeNo, total_fee: '12.34' },
      placedAt: '2024-05-01T00:00:00.000Z',
    }),
  );
}

const events = async (outTradeNo: string) => store.readStream(`order-${outTradeNo}`);

function notify(outTradeNo: string, tradeNo: string) {
  const notification = signedNotification(
    tradeStatusSyncParams({ outTradeNo, tradeNo, tradeStatus: 'TRADE_SUCCESS', totalFee: '12.34' }),
  );
  return path.pipeline.receive({
    channel: 'notify',
    receivedAt: new Date(),
    method: 'POST',
    path: '/alipay/notify',
    headers: { 'content-type': notification.contentType },
    contentType: notification.contentType,
    body: notification.body,
    receivedBytes: notification.body.length,
    truncated: false,
  });
}

describe('a query answer, recorded', () => {
  it('pays the order from the query, once; the same answer again is a duplicate; a late notification adds nothing', async () => {
    await placeOrder('Q-PAID');
    const tradeNo = newTradeNo();
    const dry = await record('Q-PAID', found('Q-PAID', tradeNo, 'TRADE_SUCCESS'), true);
    expect(dry).toMatchObject({ dryRun: true, outcome: 'applied', events: [{ type: 'PaymentSucceeded' }] });
    expect(dry.inboxId).toBeUndefined();
    expect((await events('Q-PAID')).map((e) => e.type)).toEqual(['OrderPlaced']);

    const first = await record('Q-PAID', found('Q-PAID', tradeNo, 'TRADE_SUCCESS'));
    expect(first).toMatchObject({
      answer: 'found',
      outcome: 'applied',
      events: [{ type: 'PaymentSucceeded' }],
    });
    const [, paid] = await events('Q-PAID');
    expect(paid.data).toMatchObject({ source: 'query', tradeNo, paidFee: 1234 });
    expect(paid.metadata).toMatchObject({ causationId: String(first.inboxId) });

    const again = await record('Q-PAID', found('Q-PAID', tradeNo, 'TRADE_SUCCESS'));
    expect(again).toMatchObject({
      outcome: 'no_new_fact',
      detail: { reason: 'duplicate', duplicateOf: first.inboxId },
    });

    const late = await notify('Q-PAID', tradeNo);
    expect(late).toMatchObject({ outcome: 'no_new_fact', reply: 'success', detail: { reason: 'stale' } });
    expect((await events('Q-PAID')).map((e) => e.type)).toEqual(['OrderPlaced', 'PaymentSucceeded']);

    // A replay does not read an answer as a notification: reconciling asks again instead.
    const replayed = await path.bus.execute(new ReplayNotificationsCommand({ ids: [first.inboxId!] }));
    expect(replayed).toMatchObject({
      replayed: 0,
      skipped: [{ inboxId: first.inboxId, reason: 'query_answer' }],
    });

    const [stored] = await database.dataSource.query<Record<string, unknown>[]>(
      `SELECT channel, outcome, verified, out_trade_no, trade_no, notify_id FROM inbox_notifications WHERE id = $1`,
      [first.inboxId],
    );
    expect(stored).toEqual({
      channel: 'query',
      outcome: 'applied',
      verified: true,
      out_trade_no: 'Q-PAID',
      trade_no: tradeNo,
      notify_id: null,
    });
  });

  it('records the payment once when the query and the notification race', async () => {
    for (let round = 0; round < 5; round++) {
      const outTradeNo = `Q-RACE-${round}`;
      await placeOrder(outTradeNo);
      const tradeNo = newTradeNo();
      const [query, notification] = await Promise.all([
        record(outTradeNo, found(outTradeNo, tradeNo, 'TRADE_SUCCESS')),
        notify(outTradeNo, tradeNo),
      ]);
      const outcomes = [query.outcome, notification.outcome].sort();
      expect(outcomes).toEqual(['applied', 'no_new_fact']);
      expect((await events(outTradeNo)).filter((e) => e.type === 'PaymentSucceeded')).toHaveLength(1);
    }
  });

  it('never moves an order back: an answer that still says WAIT_BUYER_PAY after the payment adds nothing', async () => {
    await placeOrder('Q-BACK');
    const tradeNo = newTradeNo();
    await notify('Q-BACK', tradeNo);
    const answer = await record('Q-BACK', found('Q-BACK', tradeNo, 'WAIT_BUYER_PAY'));
    expect(answer).toMatchObject({ outcome: 'no_new_fact', events: [] });
    expect((await events('Q-BACK')).map((e) => e.type)).toEqual(['OrderPlaced', 'PaymentSucceeded']);
  });

  it('keeps an answer whose signature does not verify as rejected evidence, and changes nothing', async () => {
    await placeOrder('Q-FORGED');
    const forged = found('Q-FORGED', newTradeNo(), 'TRADE_SUCCESS', { key: `forged${'0'.repeat(26)}` });
    expect(forged.reply.status).toBe('unverified');
    const recorded = await record('Q-FORGED', forged);
    expect(recorded).toMatchObject({
      answer: 'unverified',
      outcome: 'rejected',
      detail: { reason: 'signature' },
      events: [],
    });
    expect((await events('Q-FORGED')).map((e) => e.type)).toEqual(['OrderPlaced']);
  });

  it('keeps TRADE_IS_NOT_EXIST as rejected evidence and closes nothing', async () => {
    await placeOrder('Q-NONE');
    const recorded = await record('Q-NONE', read(formatGatewayErrorReply('TRADE_IS_NOT_EXIST', 'utf-8')));
    expect(recorded).toMatchObject({
      answer: 'not_found',
      outcome: 'rejected',
      detail: { reason: 'trade_not_found' },
    });
    expect((await events('Q-NONE')).map((e) => e.type)).toEqual(['OrderPlaced']);
  });

  it('records an amount mismatch as an anomaly once, however often the same trade is asked about', async () => {
    await placeOrder('Q-AMOUNT');
    const tradeNo = newTradeNo();
    await record('Q-AMOUNT', found('Q-AMOUNT', tradeNo, 'TRADE_SUCCESS', { totalFee: '0.01' }));
    await record('Q-AMOUNT', found('Q-AMOUNT', tradeNo, 'TRADE_SUCCESS', { totalFee: '0.01' }));
    expect((await events('Q-AMOUNT')).map((e) => e.type)).toEqual(['OrderPlaced', 'AnomalyDetected']);
  });
});
