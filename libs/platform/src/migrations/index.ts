import { EventStore1732000000001 } from './1732000000001-event-store';
import { Projector1732000000002 } from './1732000000002-projector';
import { Inbox1732000000003 } from './1732000000003-inbox';
import { OrderProjections1732000000004 } from './1732000000004-order-projections';
import { RefundBatchProjection1732000000005 } from './1732000000005-refund-batch-projection';
import { RefundBatchSerial1732000000006 } from './1732000000006-refund-batch-serial';
import { InboxRecordNotification1732000000007 } from './1732000000007-inbox-record-notification';
import { InboxHotOutcomes1732000000008 } from './1732000000008-inbox-hot-outcomes';
import { InboxPurge1732000000009 } from './1732000000009-inbox-purge';
import { WorkerLeases1732000000010 } from './1732000000010-worker-leases';
import { SchemaVersions1732000000011 } from './1732000000011-schema-versions';

/**
 * Every schema migration, in the order they are applied: an explicit list, never a glob (globs break under
 * bundling and silently skip files). The same list serves PostgreSQL and the embedded database.
 */
export const LEDGER_MIGRATIONS = [
  EventStore1732000000001,
  Projector1732000000002,
  Inbox1732000000003,
  OrderProjections1732000000004,
  RefundBatchProjection1732000000005,
  RefundBatchSerial1732000000006,
  InboxRecordNotification1732000000007,
  InboxHotOutcomes1732000000008,
  InboxPurge1732000000009,
  WorkerLeases1732000000010,
  SchemaVersions1732000000011,
];

export { pendingMigrations, runMigrations } from './run-migrations';
