import { EventStore1732000000001 } from './1732000000001-event-store';
import { Projector1732000000002 } from './1732000000002-projector';
import { SchemaVersions1732000000011 } from './1732000000011-schema-versions';
import { EventStoreAppendOne1732000000200 } from './1732000000200-event-store-append-one';

/** The event store's tables and functions: events, streams, the append, the consumers' checkpoints. */
export const EVENT_STORE_MIGRATIONS = [
  EventStore1732000000001,
  Projector1732000000002,
  SchemaVersions1732000000011,
  EventStoreAppendOne1732000000200,
];
