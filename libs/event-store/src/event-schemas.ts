import { EventStoreError } from './event-store-error';
import { UpcasterChain, type EventUpcaster, type UpcastSubject } from './upcasting';

/** The `integer` column `events.schema_version`. */
const MAX_SCHEMA_VERSION = 2_147_483_647;

/**
 * The event types a store accepts, as the application declares them once (docs/events.md, "Evolving
 * events"): each type's current schema version, which every append stamps, and the upcasters that bring
 * older stored versions up to it at read time.
 */
export interface EventCatalogue {
  readonly currentVersions: Readonly<Record<string, number>>;
  readonly upcasters: readonly EventUpcaster[];
}

/**
 * The checked catalogue, shared by the store's appends and reads and by the projector, so that the version
 * an event is written at and the upcasters it is read through cannot disagree. Checked at construction: a
 * type above version 1 has an upcaster chain that ends exactly at its current version, and every upcaster
 * belongs to a listed type.
 */
export class EventSchemas {
  readonly upcasters: UpcasterChain;
  private readonly versions: ReadonlyMap<string, number>;

  constructor(catalogue: EventCatalogue) {
    this.upcasters = new UpcasterChain(catalogue.upcasters);
    const versions = new Map<string, number>();
    for (const [type, version] of Object.entries(catalogue.currentVersions)) {
      if (!Number.isSafeInteger(version) || version < 1 || version > MAX_SCHEMA_VERSION) {
        throw new EventStoreError(
          'SCHEMA_MISMATCH',
          `${type} is at schema version ${String(version)}; schema versions are integers from 1`,
        );
      }
      const upcastTo = this.upcasters.currentVersion(type);
      if (upcastTo === undefined ? version !== 1 : upcastTo !== version) {
        throw new EventStoreError(
          'SCHEMA_MISMATCH',
          `${type} is at schema version ${version} but its upcasters lead to version ${upcastTo ?? 1}; ` +
            'each raise of the version comes with the upcaster from the previous one',
        );
      }
      versions.set(type, version);
    }
    for (const upcaster of catalogue.upcasters) {
      if (!versions.has(upcaster.type)) {
        throw new EventStoreError(
          'UNKNOWN_EVENT_TYPE',
          `an upcaster is registered for ${upcaster.type}, which is not in the catalogue`,
        );
      }
    }
    this.versions = versions;
  }

  /** Whether the catalogue lists `type`. */
  lists(type: string): boolean {
    return this.versions.has(type);
  }

  /**
   * The schema version an append of `type` is stamped with.
   *
   * @throws EventStoreError `UNKNOWN_EVENT_TYPE` when the catalogue does not list `type`: an event is never
   *   stored at a version nobody declared.
   */
  versionOf(type: string): number {
    const version = this.versions.get(type);
    if (version === undefined) {
      throw new EventStoreError(
        'UNKNOWN_EVENT_TYPE',
        `event type ${JSON.stringify(type)} is not in the event catalogue; add it with its schema version`,
      );
    }
    return version;
  }

  /** `event` at its type's current schema version (see `UpcasterChain.upcast`). */
  upcast(event: UpcastSubject): { schemaVersion: number; data: unknown } {
    return this.upcasters.upcast(event);
  }
}
