import { parseForm, verifyNotification } from '@ledger/alipay-protocol';
import { MD5_KEY, MD5_PARTNER } from '../sandbox.fixture';
import { ALIPAY_RETRY_SCHEDULE_MS, type ChaosSettings } from '../sandbox-options';
import { SandboxStore } from '../store/sandbox-store';
import { ChaosControl } from './chaos-control';
import type { Delivery, DeliveryReply } from './http-transport';
import { isSuccessReply, Notifier, type NotificationDraft } from './notifier';

/** A clock the test moves by hand. */
class TestClock {
  constructor(private ms = Date.parse('2024-03-05T02:00:00Z')) {}
  now = (): Date => new Date(this.ms);
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** A merchant that records deliveries and answers from a script (the last answer then stays). */
class ScriptedMerchant {
  readonly deliveries: (Delivery & { params: Record<string, string> })[] = [];
  constructor(private readonly answers: DeliveryReply[] = [{ status: 200, body: 'success' }]) {}
  transport = (delivery: Delivery): Promise<DeliveryReply> => {
    const params = Object.fromEntries(parseForm(delivery.body).pairs.map((p) => [p.name, p.binaryValue]));
    this.deliveries.push({ ...delivery, params });
    return Promise.resolve(this.answers.length > 1 ? this.answers.shift()! : this.answers[0]);
  };
  get tradeStatuses(): string[] {
    return this.deliveries.map((d) => d.params.trade_status);
  }
}

function setup(options: { chaos?: ChaosSettings; answers?: DeliveryReply[]; timeScale?: number } = {}) {
  const clock = new TestClock();
  const store = new SandboxStore();
  const merchant = new ScriptedMerchant(options.answers);
  const chaos = new ChaosControl(options.chaos ?? {});
  const notifier = new Notifier({
    store,
    chaos,
    clock: clock.now,
    retrySchedule: ALIPAY_RETRY_SCHEDULE_MS,
    timeScale: options.timeScale ?? 1,
    transport: (delivery) => merchant.transport(delivery),
    keyFor: () => ({ signType: 'MD5', md5Key: MD5_KEY }),
    deliveryTimeoutMs: 1000,
    autoDeliver: false,
  });
  let count = 0;
  const enqueue = (tradeStatus: string) => {
    count += 1;
    const notifyId = `notify-${count}`;
    const draft: NotificationDraft = {
      notifyId,
      kind: 'trade_status_sync',
      partner: MD5_PARTNER,
      url: 'http://shop.test/notify',
      charset: 'utf-8',
      signType: 'MD5',
      params: [
        { name: 'notify_type', value: 'trade_status_sync' },
        { name: 'notify_id', value: notifyId },
        { name: 'trade_status', value: tradeStatus },
        { name: 'subject', value: 'a cup of tea' },
      ],
      tradeStatus,
      tags: [],
    };
    return notifier.enqueue(draft);
  };
  return { clock, store, merchant, chaos, notifier, enqueue };
}

const MINUTE = 60_000;
const FAIL: DeliveryReply = { status: 200, body: 'fail' };

describe('Notifier', () => {
  it('delivers at once a body signed with the merchant key, under the malformed Content-Type', async () => {
    const { notifier, merchant, enqueue, store } = setup();
    const notification = enqueue('TRADE_SUCCESS');
    const attempts = await notifier.deliverDue();
    expect(attempts).toEqual([
      expect.objectContaining({ round: 0, copy: 1, acknowledged: true, notifyId: 'notify-1' }),
    ]);
    const [delivery] = merchant.deliveries;
    expect(delivery.contentType).toBe('application/x-www-form-urlencoded; text/html; charset=UTF-8');
    expect(delivery.body.toString('latin1')).toContain('subject=a+cup+of+tea');
    expect(delivery.params.notify_time).toBe('2024-03-05 10:00:00');
    expect(
      verifyNotification(delivery.body, {
        signType: 'MD5',
        md5Keys: [MD5_KEY],
        defaultCharset: 'utf-8',
        source: 'notify',
      }).reason,
    ).toBe('VERIFIED');
    expect(notification.state).toBe('acknowledged');
    expect(store.isNotifyIdValid(MD5_PARTNER, 'notify-1', new Date())).toBe(false);
  });

  it("retries on Alipay's schedule until success, with the same notify_id and a new notify_time", async () => {
    const { notifier, merchant, enqueue, clock, store } = setup({
      answers: [FAIL, { error: 'ECONNREFUSED' }, FAIL, { status: 200, body: 'success' }],
    });
    const notification = enqueue('TRADE_SUCCESS');
    await notifier.deliverDue();
    expect(notification.nextAttemptAt).toEqual(new Date(clock.now().getTime() + 4 * MINUTE));
    expect(store.isNotifyIdValid(MD5_PARTNER, 'notify-1', clock.now())).toBe(true);

    clock.advance(4 * MINUTE - 1);
    expect(await notifier.deliverDue()).toEqual([]);
    clock.advance(1);
    expect(await notifier.deliverDue()).toHaveLength(1);
    clock.advance(10 * MINUTE);
    await notifier.deliverDue();
    clock.advance(10 * MINUTE);
    await notifier.deliverDue();

    expect(notification.attempts.map((a) => [a.round, a.acknowledged, a.reply ?? a.error])).toEqual([
      [0, false, 'fail'],
      [1, false, 'ECONNREFUSED'],
      [2, false, 'fail'],
      [3, true, 'success'],
    ]);
    expect(new Set(merchant.deliveries.map((d) => d.params.notify_id))).toEqual(new Set(['notify-1']));
    expect(new Set(merchant.deliveries.map((d) => d.params.notify_time)).size).toBe(4);
    expect(notification.state).toBe('acknowledged');
    expect(store.isNotifyIdValid(MD5_PARTNER, 'notify-1', clock.now())).toBe(false);
  });

  it('gives up after the last retry of the schedule: 8 attempts over about 25 hours', async () => {
    const { notifier, enqueue, clock } = setup({ answers: [FAIL] });
    const notification = enqueue('TRADE_SUCCESS');
    const start = clock.now().getTime();
    await notifier.deliverDue();
    for (const wait of ALIPAY_RETRY_SCHEDULE_MS) {
      clock.advance(wait);
      await notifier.deliverDue();
    }
    expect(notification.attempts).toHaveLength(8);
    expect(notification.state).toBe('abandoned');
    expect(notification.nextAttemptAt).toBeUndefined();
    expect((clock.now().getTime() - start) / 3_600_000).toBeCloseTo(24 + 24 / 60, 5);
  });

  it('compresses the schedule with timeScale', async () => {
    const { notifier, enqueue, clock } = setup({ answers: [FAIL], timeScale: 60 });
    const notification = enqueue('TRADE_SUCCESS');
    await notifier.deliverDue();
    expect(notification.nextAttemptAt!.getTime() - clock.now().getTime()).toBe(4_000);
  });

  it('accepts exactly success, with at most a trailing newline', () => {
    const ok = (body: string) => isSuccessReply({ status: 200, body });
    expect([ok('success'), ok('success\n'), ok('success\r\n')]).toEqual([true, true, true]);
    expect([
      ok('SUCCESS'),
      ok(' success'),
      ok('success!'),
      ok('<p>success</p>'),
      ok('\uFEFFsuccess'),
    ]).toEqual([false, false, false, false, false]);
    expect(isSuccessReply({ error: 'success' })).toBe(false);
  });

  it('sends copies of the first delivery with the duplicates chaos, retries singly', async () => {
    const { notifier, merchant, enqueue, clock } = setup({ chaos: { duplicates: 3 }, answers: [FAIL] });
    const notification = enqueue('TRADE_SUCCESS');
    await notifier.deliverDue();
    expect(merchant.deliveries).toHaveLength(3);
    expect(new Set(merchant.deliveries.map((d) => d.body.toString()))).toEqual(
      new Set([merchant.deliveries[0].body.toString()]),
    );
    expect(notification.attempts.map((a) => a.copy)).toEqual([1, 2, 3]);
    expect(notification.tags).toContain('duplicated');
    clock.advance(4 * MINUTE);
    await notifier.deliverDue();
    expect(merchant.deliveries).toHaveLength(4);
  });

  it('holds notifications with the reordering chaos and sends them newest first', async () => {
    const { notifier, merchant, enqueue } = setup({ chaos: { reorderWindow: 3 } });
    const first = enqueue('WAIT_SELLER_SEND_GOODS');
    enqueue('WAIT_BUYER_CONFIRM_GOODS');
    expect(await notifier.deliverDue()).toEqual([]);
    expect(first.state).toBe('held');
    enqueue('TRADE_FINISHED');
    await notifier.deliverDue();
    expect(merchant.tradeStatuses).toEqual([
      'TRADE_FINISHED',
      'WAIT_BUYER_CONFIRM_GOODS',
      'WAIT_SELLER_SEND_GOODS',
    ]);
  });

  it('releases what is held on a flush of everything', async () => {
    const { notifier, merchant, enqueue } = setup({ chaos: { reorderWindow: 5 } });
    enqueue('WAIT_SELLER_SEND_GOODS');
    enqueue('WAIT_BUYER_CONFIRM_GOODS');
    expect(await notifier.flush()).toEqual([]);
    await notifier.flush({ all: true });
    expect(merchant.tradeStatuses).toEqual(['WAIT_BUYER_CONFIRM_GOODS', 'WAIT_SELLER_SEND_GOODS']);
  });

  it('delays first deliveries with the delay chaos', async () => {
    const { notifier, merchant, enqueue, clock } = setup({ chaos: { delayMs: 5_000 } });
    enqueue('TRADE_SUCCESS');
    await notifier.deliverDue();
    expect(merchant.deliveries).toHaveLength(0);
    clock.advance(5_000);
    await notifier.deliverDue();
    expect(merchant.deliveries).toHaveLength(1);
  });

  it('brings retries forward on a flush of everything', async () => {
    const { notifier, merchant, enqueue } = setup({ answers: [FAIL, { status: 200, body: 'success' }] });
    const notification = enqueue('TRADE_SUCCESS');
    await notifier.deliverDue();
    expect(await notifier.flush()).toEqual([]);
    const flushed = await notifier.flush({ all: true });
    expect(flushed).toEqual([
      expect.objectContaining({ notificationId: notification.id, round: 1, acknowledged: true }),
    ]);
    expect(merchant.deliveries).toHaveLength(2);
  });

  it('delivers one run at a time, in the order notifications fell due', async () => {
    const { notifier, merchant, enqueue } = setup();
    enqueue('WAIT_BUYER_PAY');
    enqueue('WAIT_SELLER_SEND_GOODS');
    const [a, b] = await Promise.all([notifier.deliverDue(), notifier.deliverDue()]);
    expect(a.length + b.length).toBe(2);
    expect(merchant.tradeStatuses).toEqual(['WAIT_BUYER_PAY', 'WAIT_SELLER_SEND_GOODS']);
  });

  it('cuts a delivery short when stopped, rather than waiting for a merchant that never answers', async () => {
    const { notifier, enqueue, merchant } = setup();
    let entered!: () => void;
    const inFlight = new Promise<void>((resolve) => (entered = resolve));
    merchant.transport = (delivery) =>
      new Promise<DeliveryReply>((resolve) => {
        entered();
        delivery.signal?.addEventListener('abort', () => resolve({ error: 'the sandbox stopped' }));
      });
    const notification = enqueue('TRADE_SUCCESS');
    const run = notifier.deliverDue();
    await inFlight;
    await notifier.stop();
    await run;
    expect(notification.attempts).toEqual([
      expect.objectContaining({ error: 'the sandbox stopped', acknowledged: false }),
    ]);
  });
});
