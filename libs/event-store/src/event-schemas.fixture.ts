import type { DataSource } from 'typeorm';
import type { AppendedPosition } from './consumer/checkpoint';
import { EventSchemas, type EventCatalogue } from './event-schemas';

/**
 * The catalogue of the store's own tests, which exercise envelopes with ad-hoc type names: a type the
 * catalogue does not list is appended at version 1. Production catalogues refuse such a type.
 */
export class AdHocEventSchemas extends EventSchemas {
  constructor(catalogue: EventCatalogue = { currentVersions: {}, upcasters: [] }) {
    super(catalogue);
  }

  override versionOf(type: string): number {
    return this.lists(type) ? super.versionOf(type) : 1;
  }
}

export const AD_HOC_SCHEMAS = new AdHocEventSchemas();

/** An event as a release of any age stored it: its schema version is the one that release wrote. */
export interface EventAsWritten {
  type: string;
  schemaVersion: number;
  data: unknown;
}

/**
 * Appends `events` the way an older release did, each at the schema version it names, through the store's
 * SQL function and around today's catalogue: how tests get old versions into the store.
 */
export async function appendAsWritten(
  dataSource: DataSource,
  streamId: string,
  events: readonly EventAsWritten[],
): Promise<AppendedPosition & { firstPosition: number }> {
  const rows = events.map((event) => ({ ...event, metadata: { correlationId: 'as-written' } }));
  const [row] = await dataSource.query<
    { transaction_id: string; first_position: string | number; last_position: string | number }[]
  >(`SELECT * FROM event_store_append($1, NULL, $2::json, NULL)`, [streamId, JSON.stringify(rows)]);
  return {
    transactionId: row.transaction_id,
    firstPosition: Number(row.first_position),
    lastPosition: Number(row.last_position),
  };
}
