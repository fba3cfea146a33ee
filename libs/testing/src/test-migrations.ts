import { EVENT_STORE_MIGRATIONS } from '@ledger/event-store';
import { RECONCILE_MIGRATIONS, REFUND_SUBMISSION_MIGRATIONS } from '@ledger/commands';
import { INBOX_MIGRATIONS } from '@ledger/inbox';
import { PROJECTION_MIGRATIONS } from '@ledger/projections';
import { PROCESS_MIGRATIONS } from '@ledger/processes';
import { composeMigrations, OPERATOR_SESSION_MIGRATIONS, WORKER_LEASE_MIGRATIONS } from '@ledger/platform';

/**
 * Every lib's schema, composed as the ledger composes it (its own list is checked against this one), so that
 * a test database has every table whichever lib's tests use it.
 */
export const TEST_MIGRATIONS = composeMigrations(
  EVENT_STORE_MIGRATIONS,
  INBOX_MIGRATIONS,
  REFUND_SUBMISSION_MIGRATIONS,
  RECONCILE_MIGRATIONS,
  PROJECTION_MIGRATIONS,
  WORKER_LEASE_MIGRATIONS,
  PROCESS_MIGRATIONS,
  OPERATOR_SESSION_MIGRATIONS,
);
