import { ORDER_EVENT_SCHEMA_VERSIONS } from './order/order-events';
import { REFUND_BATCH_EVENT_SCHEMA_VERSIONS } from './refund-batch/refund-batch-events';

/** Brings one event type's data from `fromSchemaVersion` to the next version; run by the store at read time. */
export interface EventDataUpcaster {
  type: string;
  fromSchemaVersion: number;
  upcast(data: unknown): unknown;
}

/** What the event store is configured with: each stored type's current version, and the upcasters to it. */
export interface LedgerEventCatalogue {
  currentVersions: Readonly<Record<string, number>>;
  upcasters: readonly EventDataUpcaster[];
}

/**
 * Every upcaster of the ledger's events, registered here and nowhere else (docs/events.md, "Evolving
 * events"). Each raise of a version in the tables below comes with one entry here, from the version before.
 */
const UPCASTERS: readonly EventDataUpcaster[] = [];

/**
 * Joins the two streams' version tables into the store's one catalogue. The store knows types, not streams:
 * a type both streams use (`AnomalyDetected`) must have one version on both.
 */
export function eventCatalogue(
  tables: readonly Readonly<Record<string, number>>[],
  upcasters: readonly EventDataUpcaster[],
): LedgerEventCatalogue {
  const currentVersions: Record<string, number> = {};
  for (const table of tables) {
    for (const [type, version] of Object.entries(table)) {
      const known = currentVersions[type];
      if (known !== undefined && known !== version) {
        throw new Error(`${type} is at schema version ${known} on one stream and ${version} on another`);
      }
      currentVersions[type] = version;
    }
  }
  return { currentVersions, upcasters };
}

/** The ledger's event catalogue: order and refund batch streams (docs/events.md). */
export const LEDGER_EVENT_CATALOGUE: LedgerEventCatalogue = eventCatalogue(
  [ORDER_EVENT_SCHEMA_VERSIONS, REFUND_BATCH_EVENT_SCHEMA_VERSIONS],
  UPCASTERS,
);
