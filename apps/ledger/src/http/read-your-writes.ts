import type { GlobalCheckpoint } from '@ledger/event-store';
import type { LedgerLogger } from '@ledger/platform';
import type { ProjectionsService } from '@ledger/projections';

/** How long an answer waits for the projections to show a write (docs/operations.md, "Read-your-writes"). */
export const READ_YOUR_WRITES_TIMEOUT_MS = 2_000;

const CONTEXT = 'ReadYourWrites';

/**
 * Waits until every projection shows `target` (a write this request made), or, without a target, every
 * write committed before now (a read that must show what was acknowledged elsewhere: writers answer without
 * waiting). At most `READ_YOUR_WRITES_TIMEOUT_MS`: past it, or when the wait itself fails, the answer goes
 * out anyway (the writes are durable, the projection is only late) and a warning is logged.
 */
export async function readYourWrites(
  projections: ProjectionsService,
  logger: LedgerLogger,
  what: string,
  target?: GlobalCheckpoint,
): Promise<void> {
  try {
    await (target === undefined
      ? projections.catchUp(READ_YOUR_WRITES_TIMEOUT_MS)
      : projections.waitForProjections(target, READ_YOUR_WRITES_TIMEOUT_MS));
  } catch (error) {
    logger.warn(`${what}: the projections do not show it yet: ${String(error)}`, CONTEXT);
  }
}
