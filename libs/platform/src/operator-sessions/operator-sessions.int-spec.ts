import { createHash } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@ledger/testing';
import { OperatorSessions } from './operator-sessions';

const POLICY = {
  idleMs: 60 * 60_000,
  absoluteMs: 4 * 60 * 60_000,
  signInFailures: { limit: 3, windowMs: 15 * 60_000 },
};

describe('OperatorSessions', () => {
  let database: TestDatabase;
  let sessions: OperatorSessions;

  beforeAll(async () => {
    database = await createTestDatabase('operator_sessions');
    sessions = new OperatorSessions(database.dataSource, POLICY);
  });

  afterAll(async () => {
    await database?.close();
  });

  /** Moves a session's clock back: as if it had been opened or last used `ms` ago. */
  async function age(id: string, column: 'last_seen_at' | 'expires_at', ms: number): Promise<void> {
    const hash = createHash('sha256').update(id, 'utf8').digest('hex');
    await database.dataSource.query(
      `UPDATE operator_sessions SET ${column} = ${column} - $2 * interval '1 millisecond' WHERE id_hash = $1`,
      [hash, ms],
    );
  }

  it('opens a session whose id is stored only as its hash, and resumes it from any instance', async () => {
    const opened = await sessions.open('ops-alice', '127.0.0.1');
    expect(opened.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(opened.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(opened.maxAgeSeconds).toBe(4 * 3600);
    const stored = await database.dataSource.query<{ id_hash: string }[]>(
      `SELECT id_hash FROM operator_sessions WHERE operator = 'ops-alice'`,
    );
    expect(stored).toEqual([{ id_hash: createHash('sha256').update(opened.id).digest('hex') }]);

    // Another instance: another object on the same database.
    const other = new OperatorSessions(database.dataSource, POLICY);
    await expect(other.resume(opened.id, { takeFlash: false })).resolves.toMatchObject({
      operator: 'ops-alice',
      csrfToken: opened.csrfToken,
      flash: null,
    });
  });

  it('knows no session for an unknown, malformed or closed id', async () => {
    const opened = await sessions.open('ops-bob', undefined);
    await expect(sessions.resume('x'.repeat(43), { takeFlash: false })).resolves.toBeUndefined();
    await expect(sessions.resume("' OR 1=1 --", { takeFlash: false })).resolves.toBeUndefined();
    await expect(sessions.resume(opened.csrfToken, { takeFlash: false })).resolves.toBeUndefined();
    await sessions.close(opened.id);
    await expect(sessions.resume(opened.id, { takeFlash: false })).resolves.toBeUndefined();
  });

  it('ends a session left idle, and one past its absolute end however much it was used', async () => {
    const idle = await sessions.open('ops-idle', undefined);
    await age(idle.id, 'last_seen_at', POLICY.idleMs + 1_000);
    await expect(sessions.resume(idle.id, { takeFlash: false })).resolves.toBeUndefined();

    const busy = await sessions.open('ops-busy', undefined);
    await expect(sessions.resume(busy.id, { takeFlash: false })).resolves.toBeDefined();
    await age(busy.id, 'expires_at', POLICY.absoluteMs + 1_000);
    await expect(sessions.resume(busy.id, { takeFlash: false })).resolves.toBeUndefined();

    // A use keeps an idle clock from running out.
    const used = await sessions.open('ops-used', undefined);
    await age(used.id, 'last_seen_at', POLICY.idleMs - 60_000);
    await expect(sessions.resume(used.id, { takeFlash: false })).resolves.toBeDefined();
    await age(used.id, 'last_seen_at', 120_000);
    await expect(sessions.resume(used.id, { takeFlash: false })).resolves.toBeDefined();

    // Ended sessions are dropped when the next one opens.
    await sessions.open('ops-next', undefined);
    const left = await database.dataSource.query<{ operator: string }[]>(
      `SELECT operator FROM operator_sessions WHERE operator IN ('ops-idle', 'ops-busy')`,
    );
    expect(left).toEqual([]);
  });

  it('hands a flash message over once, to the page that takes it', async () => {
    const opened = await sessions.open('ops-flash', undefined);
    await sessions.leaveFlash(opened.id, { kind: 'success', text: '退款已提交 refund submitted' });
    await expect(sessions.resume(opened.id, { takeFlash: false })).resolves.toMatchObject({ flash: null });
    await expect(sessions.resume(opened.id, { takeFlash: true })).resolves.toMatchObject({
      flash: { kind: 'success', text: '退款已提交 refund submitted' },
    });
    await expect(sessions.resume(opened.id, { takeFlash: true })).resolves.toMatchObject({ flash: null });
  });

  it('hands a flash message to one of two pages opened at once, never to both', async () => {
    const opened = await sessions.open('ops-race', undefined);
    await sessions.leaveFlash(opened.id, { kind: 'error', text: 'refused' });
    const pages = await Promise.all([
      sessions.resume(opened.id, { takeFlash: true }),
      sessions.resume(opened.id, { takeFlash: true }),
    ]);
    expect(pages.filter((page) => page?.flash !== null)).toHaveLength(1);
  });

  it('throttles a source after its failed sign-ins, and only that source', async () => {
    const source = '203.0.113.7';
    await expect(sessions.throttled(source)).resolves.toBeUndefined();
    expect(await sessions.recordFailedSignIn(source)).toBe(1);
    expect(await sessions.recordFailedSignIn(source)).toBe(2);
    await expect(sessions.throttled(source)).resolves.toBeUndefined();
    expect(await sessions.recordFailedSignIn(source)).toBe(3);
    const throttle = await sessions.throttled(source);
    expect(throttle?.failures).toBe(3);
    expect(throttle?.retryAfterSeconds).toBeGreaterThan(14 * 60);
    expect(throttle?.retryAfterSeconds).toBeLessThanOrEqual(15 * 60);
    await expect(sessions.throttled('203.0.113.8')).resolves.toBeUndefined();

    // Once the failures are older than the window, the source may try again.
    await database.dataSource.query(
      `UPDATE operator_sign_in_failures SET failed_at = failed_at - interval '16 minutes' WHERE source = $1`,
      [source],
    );
    await expect(sessions.throttled(source)).resolves.toBeUndefined();
  });

  it('counts failures from several instances at once', async () => {
    const source = '198.51.100.9';
    const other = new OperatorSessions(database.dataSource, POLICY);
    await Promise.all([
      sessions.recordFailedSignIn(source),
      other.recordFailedSignIn(source),
      other.recordFailedSignIn(source),
    ]);
    await expect(sessions.throttled(source)).resolves.toMatchObject({ failures: 3 });
  });
});
