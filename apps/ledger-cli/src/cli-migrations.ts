import { EVENT_STORE_MIGRATIONS } from '@ledger/event-store';
import { RECONCILE_MIGRATIONS, REFUND_SUBMISSION_MIGRATIONS } from '@ledger/commands';
import { INBOX_MIGRATIONS } from '@ledger/inbox';
import { PROJECTION_MIGRATIONS } from '@ledger/projections';
import { PROCESS_MIGRATIONS } from '@ledger/processes';
import { composeMigrations, OPERATOR_SESSION_MIGRATIONS, WORKER_LEASE_MIGRATIONS } from '@ledger/platform';

/**
 * The schema `ledger-cli migrate` applies: the ledger's, composed here because an app does not import
 * another (a test holds both lists equal).
 */
export const CLI_MIGRATIONS = composeMigrations(
  EVENT_STORE_MIGRATIONS,
  INBOX_MIGRATIONS,
  REFUND_SUBMISSION_MIGRATIONS,
  RECONCILE_MIGRATIONS,
  PROJECTION_MIGRATIONS,
  WORKER_LEASE_MIGRATIONS,
  PROCESS_MIGRATIONS,
  OPERATOR_SESSION_MIGRATIONS,
);
