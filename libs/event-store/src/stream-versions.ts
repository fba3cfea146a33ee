import type { DatabaseSession } from '@ledger/platform';

/** A stream whose events do not number 1, 2, … up to the version its `streams` row records. */
export interface StreamVersionProblem {
  streamId: string;
  /** The version `streams` records. */
  recordedVersion: number;
  /** Its events, and their lowest and highest version (null without events). */
  events: number;
  firstVersion: number | null;
  lastVersion: number | null;
}

/** What `checkStreamVersions` found. */
export interface StreamVersionCheck {
  streams: number;
  events: number;
  /** Every stream whose versions are not contiguous from 1, up to `MAX_STREAM_PROBLEMS`. */
  problems: StreamVersionProblem[];
  problemCount: number;
}

/** Problems listed; the count covers them all. */
export const MAX_STREAM_PROBLEMS = 100;
/** Streams read per page: however many there are, one page is in memory at a time. */
const STREAM_PAGE = 1_000;

interface StreamRow {
  stream_id: string;
  version: number;
  events: string;
  first_version: number | null;
  last_version: number | null;
}

/**
 * Checks that every stream's events are numbered 1 to its recorded version without a gap (docs/event-store.md,
 * "Schema": versions are 1-based and dense per stream). With `(stream_id, version)` unique, that holds exactly
 * when the count, the highest version and the recorded version agree and the lowest is 1. Reads the streams
 * in pages by id; `onProgress` gets the streams checked and their total.
 */
export async function checkStreamVersions(
  session: DatabaseSession,
  options: { onProgress?: (checked: number, total: number) => void } = {},
): Promise<StreamVersionCheck> {
  const [{ total }] = await session.query<{ total: string }>(`SELECT count(*) AS total FROM streams`);
  const check: StreamVersionCheck = { streams: 0, events: 0, problems: [], problemCount: 0 };
  let after = '';
  for (;;) {
    const rows = await session.query<StreamRow>(
      `SELECT s.stream_id, s.version, count(e.version) AS events,
              min(e.version) AS first_version, max(e.version) AS last_version
       FROM (SELECT stream_id, version FROM streams WHERE stream_id > $1 ORDER BY stream_id LIMIT $2) s
       LEFT JOIN events e ON e.stream_id = s.stream_id
       GROUP BY s.stream_id, s.version ORDER BY s.stream_id`,
      [after, STREAM_PAGE],
    );
    for (const row of rows) {
      const events = Number(row.events);
      check.streams += 1;
      check.events += events;
      const contiguous =
        events === row.version && (events === 0 || (row.first_version === 1 && row.last_version === events));
      if (contiguous) continue;
      check.problemCount += 1;
      if (check.problems.length < MAX_STREAM_PROBLEMS) {
        check.problems.push({
          streamId: row.stream_id,
          recordedVersion: row.version,
          events,
          firstVersion: row.first_version,
          lastVersion: row.last_version,
        });
      }
    }
    options.onProgress?.(check.streams, Number(total));
    if (rows.length < STREAM_PAGE) return check;
    after = rows[rows.length - 1].stream_id;
  }
}
