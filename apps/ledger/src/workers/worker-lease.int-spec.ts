import { createTestDatabase, describeOnPostgres, type TestDatabase } from '@ledger/testing';
import { WorkerLease } from './worker-lease';

describeOnPostgres('WorkerLease', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('worker_lease');
  });

  afterAll(async () => {
    await database?.close();
  });

  it('is held by one instance at a time, and passes on when given back', async () => {
    const first = new WorkerLease(database.dataSource, 'lease_handover');
    const second = new WorkerLease(database.dataSource, 'lease_handover');
    const other = new WorkerLease(database.dataSource, 'another_worker');
    expect(await first.acquire()).toBe(true);
    expect(await first.acquire()).toBe(true);
    expect(await second.acquire()).toBe(false);
    expect(await other.acquire()).toBe(true);
    await first.release();
    expect(await second.acquire()).toBe(true);
    expect(await first.acquire()).toBe(false);
    await second.release();
    await other.release();
  });

  it('is taken over when the holder’s session ends', async () => {
    const holder = new WorkerLease(database.dataSource, 'lease_takeover');
    const successor = new WorkerLease(database.dataSource, 'lease_takeover');
    expect(await holder.acquire()).toBe(true);
    expect(await successor.acquire()).toBe(false);
    const [{ pid }] = await database.dataSource.query<{ pid: number }[]>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = hashtext('lease_takeover')::oid
       AND granted`,
    );
    // pg_terminate_backend only signals: the backend, and its lock, go a moment later. Wait for it to be gone
    // (wait = true with a time limit) before asking for the lease.
    const [{ terminated }] = await database.dataSource.query<{ terminated: boolean }[]>(
      'SELECT pg_terminate_backend($1, 10000) AS terminated',
      [pid],
    );
    expect(terminated).toBe(true);
    expect(await successor.acquire()).toBe(true);
    await successor.release();
    await holder.release();
  });
});
