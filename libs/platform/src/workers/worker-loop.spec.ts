import { LedgerLogger } from '../logging/ledger-logger';
import type { WorkerLease } from './worker-lease';
import { WorkerLoop, type PassResult } from './worker-loop';

function loopWith(pass: () => Promise<boolean>, pollMs = 60_000): WorkerLoop {
  return new WorkerLoop({ name: 'test', pollMs, logger: new LedgerLogger('silent'), pass });
}

const until = async (condition: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error('condition not reached');
};

describe('WorkerLoop', () => {
  it('passes again at once while there is more to do, then pauses', async () => {
    let passes = 0;
    const loop = loopWith(() => Promise.resolve(++passes < 3));
    loop.start();
    await until(() => passes === 3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(passes).toBe(3);
    await loop.stop();
  });

  it('cuts its pause short when stopped, and does not pass again', async () => {
    let passes = 0;
    const loop = loopWith(() => Promise.resolve(++passes === 0));
    loop.start();
    await until(() => passes === 1);
    const stopping = Date.now();
    await loop.stop();
    expect(Date.now() - stopping).toBeLessThan(1_000);
    expect(loop.stopping).toBe(true);
    expect(loop.signal.aborted).toBe(true);
    expect(passes).toBe(1);
  });

  it('retries a failing pass after a backoff, and finishes the pass in flight before stopping', async () => {
    let passes = 0;
    let release: () => void = () => undefined;
    const loop = loopWith(async () => {
      passes++;
      if (passes === 1) throw new Error('the database is away');
      await new Promise<void>((resolve) => (release = resolve));
      return false;
    }, 10);
    loop.start();
    await until(() => passes === 2);
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(passes).toBe(2);
  });
});

describe('WorkerLoop on a fake clock', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  function recordingLoop(results: (() => Promise<PassResult>)[], pollMs = 10_000) {
    const at: number[] = [];
    const started = Date.now();
    const loop = new WorkerLoop({
      name: 'fake-clock',
      pollMs,
      failureBackoff: { baseMs: 100, maxMs: 400 },
      logger: new LedgerLogger('silent'),
      pass: () => {
        at.push(Date.now() - started);
        return (results.shift() ?? (() => Promise.resolve(false)))();
      },
    });
    return { loop, at };
  }

  it('pauses for the poll when idle, and a wake starts the next pass at once', async () => {
    const { loop, at } = recordingLoop([]);
    loop.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(at).toEqual([0]);
    await jest.advanceTimersByTimeAsync(3_000);
    loop.wake();
    await jest.advanceTimersByTimeAsync(0);
    expect(at).toEqual([0, 3_000]);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(at).toEqual([0, 3_000, 13_000]);
    await loop.stop();
  });

  it('keeps a wake that comes during a pass: the next pass follows it at once', async () => {
    let release: () => void = () => undefined;
    const { loop, at } = recordingLoop([
      () => new Promise<PassResult>((resolve) => (release = () => resolve(false))),
    ]);
    loop.start();
    await jest.advanceTimersByTimeAsync(500);
    loop.wake();
    release();
    await jest.advanceTimersByTimeAsync(0);
    expect(at).toEqual([0, 500]);
    await loop.stop();
  });

  it('pauses until work put off is due, never longer than the poll', async () => {
    const { loop, at } = recordingLoop([() => Promise.resolve(1_500), () => Promise.resolve(60_000)]);
    loop.start();
    await jest.advanceTimersByTimeAsync(1_499);
    expect(at).toEqual([0]);
    await jest.advanceTimersByTimeAsync(1);
    expect(at).toEqual([0, 1_500]);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(at).toEqual([0, 1_500, 11_500]);
    await loop.stop();
  });

  it('retries failed passes after a backoff that doubles up to its cap, and resets after a success', async () => {
    const fail = () => Promise.reject(new Error('the database is away'));
    const { loop, at } = recordingLoop([fail, fail, fail, fail, () => Promise.resolve(true), fail]);
    loop.start();
    await jest.advanceTimersByTimeAsync(2_000);
    // 100, 200, 400, 400 (the cap); then a success, the next pass at once, and a failure from the base.
    expect(at).toEqual([0, 100, 300, 700, 1_100, 1_100, 1_200]);
    await loop.stop();
  });

  it('cuts a backoff short when stopped', async () => {
    const { loop, at } = recordingLoop([() => Promise.reject(new Error('down'))]);
    loop.start();
    await jest.advanceTimersByTimeAsync(10);
    let stopped = false;
    void loop.stop().then(() => (stopped = true));
    await jest.advanceTimersByTimeAsync(0);
    expect(stopped).toBe(true);
    expect(at).toEqual([0]);
  });
});

/** `worker_leases` in memory, expiring by the same clock as the holders (the database's). */
class FakeLeaseTable {
  private row?: { holder: string; token: number; expiresAt: number };
  constructor(private readonly clock: () => number) {}

  take(_worker: string, holder: string, ttlMs: number): Promise<number | undefined> {
    const row = this.row;
    if (row !== undefined && row.expiresAt > this.clock() && row.holder !== holder) {
      return Promise.resolve(undefined);
    }
    this.row = { holder, token: (row?.token ?? 0) + 1, expiresAt: this.clock() + ttlMs };
    return Promise.resolve(this.row.token);
  }

  renew(_worker: string, holder: string, token: number, ttlMs: number): Promise<boolean> {
    const row = this.row;
    if (row?.holder !== holder || row.token !== token || row.expiresAt <= this.clock()) {
      return Promise.resolve(false);
    }
    row.expiresAt = this.clock() + ttlMs;
    return Promise.resolve(true);
  }

  give(_worker: string, holder: string, token: number): Promise<void> {
    if (this.row?.holder === holder && this.row.token === token) this.row.expiresAt = this.clock();
    return Promise.resolve();
  }
}

describe('WorkerLoop with a lease', () => {
  const timing = { ttlMs: 30_000, marginMs: 5_000 };
  let now = 0;
  const clock = () => now;

  beforeEach(() => {
    now = 1_000;
  });

  function leasedLoop(table: FakeLeaseTable, pass: (loop: WorkerLoop) => Promise<boolean>): WorkerLoop {
    const loop: WorkerLoop = new WorkerLoop({
      name: 'leased',
      pollMs: 60_000,
      logger: new LedgerLogger('silent'),
      lease: { table, retryMs: 60_000, timing, clock },
      pass: () => pass(loop),
    });
    return loop;
  }

  it('runs on one instance only, and a paused holder stops acting before another may take over', async () => {
    const table = new FakeLeaseTable(clock);
    const actions: string[] = [];
    let resume: () => void = () => undefined;
    const frozen = new Promise<void>((resolve) => (resume = resolve));
    const first = leasedLoop(table, async (loop) => {
      loop.assertHolding();
      const token = loop.fencingToken;
      actions.push(`before #${token}`);
      if (token === 1) await frozen; // SIGSTOP, a long GC, a frozen VM: no timer runs, the clock goes on
      loop.assertHolding();
      actions.push(`after #${token}`);
      return false;
    });
    const second = leasedLoop(table, () => Promise.resolve(false));
    first.start();
    await until(() => actions.length === 1);
    const signal = first.signal;
    expect(await second.takeLease()).toBe(false);

    // Frozen past its local validity (ttl − margin after the take was sent), not yet past expires_at.
    now += timing.ttlMs - timing.marginMs;
    expect(first.holding()).toBe(false);
    expect(signal.aborted).toBe(true);
    expect(await second.takeLease()).toBe(false);
    resume();
    // The pass in flight does not act again; the loop takes a new tenure (nobody else has), with a new token.
    await until(() => actions.length === 3);
    expect(actions).toEqual(['before #1', 'before #2', 'after #2']);
    expect(await second.takeLease()).toBe(false);
    await first.stop();
    expect(await second.takeLease()).toBe(true);
    expect(second.fencingToken).toBe(3);
    await second.stop();
  });

  it('holds on while its renewals arrive, and the local validity counts from when each was sent', async () => {
    const table = new FakeLeaseTable(clock);
    const loop = leasedLoop(table, () => Promise.resolve(false));
    expect(await loop.takeLease()).toBe(true);
    for (let renewal = 0; renewal < 5; renewal++) {
      now += timing.ttlMs / 3;
      expect(loop.holding()).toBe(true);
      expect(await (loop as unknown as { lease: { holder: WorkerLease } }).lease.holder.renew()).toBe(true);
    }
    expect(loop.fencingToken).toBe(1);
    now += timing.ttlMs - timing.marginMs - 1;
    expect(loop.holding()).toBe(true);
    now += 1;
    expect(loop.holding()).toBe(false);
    // The lapsed tenure is over for good: a new one is taken, with the next token.
    expect(await loop.takeLease()).toBe(true);
    expect(loop.fencingToken).toBe(2);
    await loop.stop();
  });

  it('gives the lease back when stopped, for another instance at once', async () => {
    const table = new FakeLeaseTable(clock);
    const first = leasedLoop(table, () => Promise.resolve(false));
    const second = leasedLoop(table, () => Promise.resolve(false));
    expect(await first.takeLease()).toBe(true);
    await first.stop();
    expect(await second.takeLease()).toBe(true);
    expect(second.fencingToken).toBe(2);
    await second.stop();
  });
});
