import { EVENT_STORE_MIGRATIONS } from '@ledger/event-store';
import { RECONCILE_MIGRATIONS, REFUND_SUBMISSION_MIGRATIONS } from '@ledger/commands';
import { INBOX_MIGRATIONS } from '@ledger/inbox';
import { PROJECTION_MIGRATIONS } from '@ledger/projections';
import { PROCESS_MIGRATIONS } from '@ledger/processes';
import { composeMigrations, OPERATOR_SESSION_MIGRATIONS, WORKER_LEASE_MIGRATIONS } from '@ledger/platform';

/** The ledger's schema: the tables of every lib it runs, in the order their migrations are applied. */
export const LEDGER_MIGRATIONS = composeMigrations(
  EVENT_STORE_MIGRATIONS,
  INBOX_MIGRATIONS,
  REFUND_SUBMISSION_MIGRATIONS,
  RECONCILE_MIGRATIONS,
  PROJECTION_MIGRATIONS,
  WORKER_LEASE_MIGRATIONS,
  PROCESS_MIGRATIONS,
  OPERATOR_SESSION_MIGRATIONS,
);
