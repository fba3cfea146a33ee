import { EventStoreError } from './event-store-error';

/**
 * Turns the data of one event type from `fromSchemaVersion` into `fromSchemaVersion + 1`. Upcasters run
 * at read time, chained until the type's current version, so stored events are never rewritten
 * (docs/event-store.md, "Upcasting").
 */
export interface EventUpcaster<From = unknown, To = unknown> {
  type: string;
  fromSchemaVersion: number;
  upcast(data: From): To;
}

/** The event's position for error messages; upcasting itself does not depend on it. */
export interface UpcastSubject {
  type: string;
  schemaVersion: number;
  data: unknown;
  globalPosition?: number;
}

interface TypeChain {
  /** The lowest version an upcaster starts from: older events have no way forward. */
  oldest: number;
  /** One past the newest upcaster: the version readers receive. */
  current: number;
  steps: Map<number, EventUpcaster>;
}

/**
 * The registered upcasters, checked once: at most one per (type, from-version) and no gap inside a type's
 * chain, so a missing link is found at start-up rather than on the first old event read.
 */
export class UpcasterChain {
  private readonly chains = new Map<string, TypeChain>();

  constructor(upcasters: readonly EventUpcaster[] = []) {
    const byType = new Map<string, Map<number, EventUpcaster>>();
    for (const upcaster of upcasters) {
      if (!Number.isSafeInteger(upcaster.fromSchemaVersion) || upcaster.fromSchemaVersion < 1) {
        throw new EventStoreError(
          'UPCASTER_MISSING',
          `upcaster for ${upcaster.type} has fromSchemaVersion ${String(upcaster.fromSchemaVersion)}; ` +
            'schema versions are integers from 1',
        );
      }
      const steps = byType.get(upcaster.type) ?? new Map<number, EventUpcaster>();
      if (steps.has(upcaster.fromSchemaVersion)) {
        throw new EventStoreError(
          'UPCASTER_MISSING',
          `two upcasters for ${upcaster.type} from schema version ${upcaster.fromSchemaVersion}`,
        );
      }
      steps.set(upcaster.fromSchemaVersion, upcaster);
      byType.set(upcaster.type, steps);
    }
    for (const [type, steps] of byType) {
      const versions = [...steps.keys()].sort((a, b) => a - b);
      const oldest = versions[0];
      const current = versions[versions.length - 1] + 1;
      for (let version = oldest; version < current; version++) {
        if (!steps.has(version)) {
          throw new EventStoreError(
            'UPCASTER_MISSING',
            `the upcaster chain of ${type} has no link from schema version ${version} to ${version + 1}`,
          );
        }
      }
      this.chains.set(type, { oldest, current, steps });
    }
  }

  /** The schema version readers receive for `type`, or undefined when no upcaster is registered for it. */
  currentVersion(type: string): number | undefined {
    return this.chains.get(type)?.current;
  }

  /**
   * Brings `event` to its type's current version. Types without upcasters, and versions at or above the
   * current one (written by newer code), pass through untouched: readers tolerate what they do not know.
   */
  upcast(event: UpcastSubject): { schemaVersion: number; data: unknown } {
    const chain = this.chains.get(event.type);
    if (chain === undefined || event.schemaVersion >= chain.current) {
      return { schemaVersion: event.schemaVersion, data: event.data };
    }
    const where = event.globalPosition === undefined ? '' : ` at global position ${event.globalPosition}`;
    if (event.schemaVersion < chain.oldest) {
      throw new EventStoreError(
        'UPCASTER_MISSING',
        `no upcaster for ${event.type} from schema version ${event.schemaVersion}${where}; ` +
          `the chain starts at version ${chain.oldest}`,
        { globalPosition: event.globalPosition },
      );
    }
    let data = event.data;
    for (let version = event.schemaVersion; version < chain.current; version++) {
      try {
        data = chain.steps.get(version)!.upcast(data);
      } catch (cause) {
        throw new EventStoreError(
          'UPCAST_FAILED',
          `upcasting ${event.type}${where} from schema version ${version} failed: ${String(cause)}`,
          { globalPosition: event.globalPosition },
          { cause },
        );
      }
    }
    return { schemaVersion: chain.current, data };
  }
}
