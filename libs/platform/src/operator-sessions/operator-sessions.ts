import { createHash, randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';

// docs/console.md, "Sessions": the console's sign-ins live in PostgreSQL, so that any instance answers any
// request of a session, and its expiry is measured by the database's clock, never one instance's.

/** How long a session lasts and how failed sign-ins are throttled. */
export interface OperatorSessionPolicy {
  /** A session not used for this long has ended. */
  readonly idleMs: number;
  /** A session ends this long after its sign-in, however much it is used. */
  readonly absoluteMs: number;
  /**
   * After `limit` failed sign-ins from one source within `windowMs`, its next tries are refused until the
   * oldest of them leaves the window.
   */
  readonly signInFailures: { readonly limit: number; readonly windowMs: number };
}

const HOUR_MS = 3_600_000;

export const DEFAULT_OPERATOR_SESSION_POLICY: OperatorSessionPolicy = {
  idleMs: 12 * HOUR_MS,
  absoluteMs: 24 * HOUR_MS,
  signInFailures: { limit: 10, windowMs: 15 * 60_000 },
};

/** A message shown once, on the next page the session opens (after a POST that redirected). */
export interface SessionFlash {
  kind: 'success' | 'error';
  text: string;
}

/** A session as the pages see it. */
export interface OperatorSession {
  /** Who signed in: recorded as the operator of every action taken in this session. */
  operator: string;
  /** The synchronizer token every form of the session carries; a POST without it is refused. */
  csrfToken: string;
  /** ISO 8601 UTC. */
  createdAt: string;
  /** The message left for this page by the previous request, when the page takes it. */
  flash: SessionFlash | null;
}

/** A session just opened: `id` goes into the cookie and is never stored. */
export interface OpenedSession {
  id: string;
  csrfToken: string;
  /** The absolute end of the session, for the cookie's Max-Age. */
  maxAgeSeconds: number;
}

/** What the refused sign-ins of a source are waiting for. */
export interface SignInThrottle {
  failures: number;
  retryAfterSeconds: number;
}

/** 32 random bytes, URL-safe: what a session cookie carries. */
const SESSION_ID = /^[A-Za-z0-9_-]{43}$/;

const hashOf = (id: string) => createHash('sha256').update(id, 'utf8').digest('hex');
const randomToken = () => randomBytes(32).toString('base64url');

interface SessionRow {
  operator: string;
  csrf_token: string;
  created_at: Date;
  flash: SessionFlash | null;
}

/**
 * The console's sessions (table `operator_sessions`) and its failed sign-ins (`operator_sign_in_failures`).
 * A session id is 32 random bytes handed to the browser once; only its SHA-256 is stored, so reading the table
 * opens no session.
 */
export class OperatorSessions {
  constructor(
    private readonly dataSource: DataSource,
    readonly policy: OperatorSessionPolicy = DEFAULT_OPERATOR_SESSION_POLICY,
  ) {}

  /** Opens a session for `operator` (already authenticated), and drops the sessions that have ended. */
  async open(operator: string, source: string | undefined): Promise<OpenedSession> {
    await this.dataSource.query(
      `DELETE FROM operator_sessions
       WHERE expires_at <= now() OR last_seen_at <= now() - $1 * interval '1 millisecond'`,
      [this.policy.idleMs],
    );
    const id = randomToken();
    const csrfToken = randomToken();
    await this.dataSource.query(
      `INSERT INTO operator_sessions (id_hash, operator, csrf_token, source, expires_at)
       VALUES ($1, $2, $3, $4, now() + $5 * interval '1 millisecond')`,
      [hashOf(id), operator, csrfToken, source ?? null, this.policy.absoluteMs],
    );
    return { id, csrfToken, maxAgeSeconds: Math.floor(this.policy.absoluteMs / 1000) };
  }

  /**
   * The session of cookie value `id` while it lasts (not idle too long, not past its absolute end), marked
   * as used now; undefined otherwise. With `takeFlash`, its message is handed over and cleared.
   */
  async resume(id: string, options: { takeFlash: boolean }): Promise<OperatorSession | undefined> {
    if (!SESSION_ID.test(id)) return undefined;
    const rows = await this.dataSource.query<SessionRow[]>(
      `WITH found AS (
         SELECT id_hash, flash FROM operator_sessions
         WHERE id_hash = $1 AND expires_at > now()
           AND last_seen_at > now() - $2 * interval '1 millisecond'
         FOR UPDATE),
       used AS (
         UPDATE operator_sessions AS session
         SET last_seen_at = now(), flash = CASE WHEN $3::boolean THEN NULL ELSE session.flash END
         FROM found WHERE session.id_hash = found.id_hash
         RETURNING session.operator, session.csrf_token, session.created_at, found.flash)
       SELECT operator, csrf_token, created_at, flash FROM used`,
      [hashOf(id), this.policy.idleMs, options.takeFlash],
    );
    if (rows.length === 0) return undefined;
    const [row] = rows;
    return {
      operator: row.operator,
      csrfToken: row.csrf_token,
      createdAt: new Date(row.created_at).toISOString(),
      flash: options.takeFlash ? row.flash : null,
    };
  }

  /** Leaves `flash` for the next page of the session (it replaces one not yet shown). */
  async leaveFlash(id: string, flash: SessionFlash): Promise<void> {
    if (!SESSION_ID.test(id)) return;
    await this.dataSource.query(`UPDATE operator_sessions SET flash = $2::jsonb WHERE id_hash = $1`, [
      hashOf(id),
      JSON.stringify(flash),
    ]);
  }

  /** Ends the session at once (sign out). */
  async close(id: string): Promise<void> {
    if (!SESSION_ID.test(id)) return;
    await this.dataSource.query(`DELETE FROM operator_sessions WHERE id_hash = $1`, [hashOf(id)]);
  }

  /**
   * Whether `source` may try to sign in now: undefined when it may, else how many failures it made within
   * the window and when the oldest of them leaves it.
   */
  async throttled(source: string): Promise<SignInThrottle | undefined> {
    const { limit, windowMs } = this.policy.signInFailures;
    const [row] = await this.dataSource.query<{ failures: string; wait_ms: string | null }[]>(
      `SELECT count(*) AS failures,
              ceil(extract(epoch FROM min(failed_at) + $2 * interval '1 millisecond' - now()) * 1000)
                AS wait_ms
       FROM operator_sign_in_failures
       WHERE source = $1 AND failed_at > now() - $2 * interval '1 millisecond'`,
      [source, windowMs],
    );
    const failures = Number(row.failures);
    if (failures < limit) return undefined;
    return { failures, retryAfterSeconds: Math.max(1, Math.ceil(Number(row.wait_ms ?? 0) / 1000)) };
  }

  /** Counts a failed sign-in of `source`; resolves with its failures within the window, this one included. */
  async recordFailedSignIn(source: string): Promise<number> {
    const { windowMs } = this.policy.signInFailures;
    await this.dataSource.query(
      `DELETE FROM operator_sign_in_failures WHERE failed_at <= now() - $1 * interval '1 millisecond'`,
      [windowMs],
    );
    await this.dataSource.query(`INSERT INTO operator_sign_in_failures (source) VALUES ($1)`, [source]);
    const [row] = await this.dataSource.query<{ failures: string }[]>(
      `SELECT count(*) AS failures FROM operator_sign_in_failures
       WHERE source = $1 AND failed_at > now() - $2 * interval '1 millisecond'`,
      [source, windowMs],
    );
    return Number(row.failures);
  }
}
