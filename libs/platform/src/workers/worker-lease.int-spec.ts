import { createTestDatabase, type TestDatabase } from '@ledger/testing';
import { LeaseTable, WorkerLease } from './worker-lease';

const TIMING = { ttlMs: 1_000, marginMs: 300 };
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('WorkerLease', () => {
  let database: TestDatabase;
  let table: LeaseTable;
  const leases: WorkerLease[] = [];

  function lease(worker: string, clock?: () => number): WorkerLease {
    const created = new WorkerLease(table, worker, TIMING, clock);
    leases.push(created);
    return created;
  }

  beforeAll(async () => {
    database = await createTestDatabase('worker_lease');
    table = new LeaseTable(database.dataSource);
  });

  afterEach(async () => {
    await Promise.all(leases.splice(0).map((held) => held.release()));
  });

  afterAll(async () => {
    await database?.close();
  });

  it('is held by one instance at a time, renewed by its holder, and passes on when given back', async () => {
    const first = lease('handover');
    const second = lease('handover');
    const other = lease('another_worker');
    expect(await first.acquire()).toBe(true);
    expect(await second.acquire()).toBe(false);
    expect(await other.acquire()).toBe(true);
    const token = first.token!;
    await pause(600);
    expect(await first.renew()).toBe(true);
    await pause(600);
    // 1.2 s after the first take, past its ttl: held thanks to the renewal.
    expect(first.holding()).toBe(true);
    expect(await second.acquire()).toBe(false);
    await first.release();
    expect(first.holding()).toBe(false);
    expect(await second.acquire()).toBe(true);
    expect(second.token).toBe(token + 1);
    expect(await first.acquire()).toBe(false);
  });

  it('is taken over once it expires, with a larger fencing token, and the old holder cannot renew it', async () => {
    let reachable = true;
    // The holder's renewals stop reaching the database (a network partition), its takes do not.
    const cutOff: Pick<LeaseTable, 'take' | 'renew' | 'give'> = {
      take: (...args) => table.take(...args),
      renew: (...args) => (reachable ? table.renew(...args) : Promise.reject(new Error('unreachable'))),
      give: (...args) => table.give(...args),
    };
    const holder = new WorkerLease(cutOff, 'takeover', TIMING);
    leases.push(holder);
    const successor = lease('takeover');
    expect(await holder.acquire()).toBe(true);
    const token = holder.token!;
    reachable = false;
    expect(await successor.acquire()).toBe(false);
    await pause(TIMING.ttlMs - TIMING.marginMs + 20);
    expect(holder.holding()).toBe(false);
    await pause(TIMING.marginMs);
    expect(await successor.acquire()).toBe(true);
    expect(successor.token).toBeGreaterThan(token);
    reachable = true;
    expect(await holder.renew()).toBe(false);
    expect(await holder.acquire()).toBe(false);
  });

  it('stops a holder whose renewal comes late: it lapses before another can take the lease', async () => {
    let now = 0;
    const paused = lease('late_renewal', () => now);
    const other = lease('late_renewal');
    expect(await paused.acquire()).toBe(true);
    const signal = paused.signal;
    // The process was frozen for longer than its validity: on resuming it must not act, even though the
    // database has not let the lease go yet.
    now += TIMING.ttlMs - TIMING.marginMs;
    expect(paused.holding()).toBe(false);
    expect(signal.aborted).toBe(true);
    expect(await other.acquire()).toBe(false);
    // A lapsed tenure is never renewed back to life.
    expect(await paused.renew()).toBe(false);
    await pause(TIMING.ttlMs + 50);
    expect(await other.acquire()).toBe(true);
  });

  it('keeps renewing by itself every third of its ttl', async () => {
    const holder = lease('self_renewing');
    const other = lease('self_renewing');
    expect(await holder.acquire()).toBe(true);
    await pause(TIMING.ttlMs * 2.5);
    expect(holder.holding()).toBe(true);
    expect(await other.acquire()).toBe(false);
  });
});
