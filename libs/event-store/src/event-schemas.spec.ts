import { EventSchemas, type EventCatalogue } from './event-schemas';
import { EventStoreError } from './event-store-error';
import type { EventUpcaster } from './upcasting';

const step = (type: string, fromSchemaVersion: number): EventUpcaster => ({
  type,
  fromSchemaVersion,
  upcast: (data) => ({ ...(data as object), [`v${fromSchemaVersion + 1}`]: true }),
});

function refusal(catalogue: EventCatalogue): EventStoreError {
  try {
    new EventSchemas(catalogue);
  } catch (error) {
    if (error instanceof EventStoreError) return error;
    throw error;
  }
  throw new Error('expected an EventStoreError');
}

describe('EventSchemas', () => {
  const schemas = new EventSchemas({
    currentVersions: { Placed: 3, Noted: 1 },
    upcasters: [step('Placed', 2), step('Placed', 1)],
  });

  it('stamps the current version of a listed type and refuses any other type', () => {
    expect(schemas.versionOf('Placed')).toBe(3);
    expect(schemas.versionOf('Noted')).toBe(1);
    expect(() => schemas.versionOf('Unlisted')).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_EVENT_TYPE' }),
    );
    expect(() => schemas.versionOf('toString')).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_EVENT_TYPE' }),
    );
  });

  it('reads every older version up to the current one, through each step once', () => {
    expect(schemas.upcast({ type: 'Placed', schemaVersion: 1, data: {} })).toEqual({
      schemaVersion: 3,
      data: { v2: true, v3: true },
    });
    const current = { v2: true, v3: true };
    expect(schemas.upcast({ type: 'Placed', schemaVersion: 3, data: current }).data).toBe(current);
  });

  it('refuses a raised version without the upcaster that leads to it', () => {
    const error = refusal({ currentVersions: { Placed: 2 }, upcasters: [] });
    expect(error.code).toBe('SCHEMA_MISMATCH');
    expect(error.message).toBe(
      'Placed is at schema version 2 but its upcasters lead to version 1; each raise of the version comes ' +
        'with the upcaster from the previous one',
    );
  });

  it('refuses upcasters that lead past the current version (the version was not raised)', () => {
    const error = refusal({
      currentVersions: { Placed: 2 },
      upcasters: [step('Placed', 1), step('Placed', 2)],
    });
    expect(error.code).toBe('SCHEMA_MISMATCH');
    expect(error.message).toContain('Placed is at schema version 2 but its upcasters lead to version 3');
  });

  it('refuses an upcaster of a type it does not list, and versions that are not integers from 1', () => {
    expect(refusal({ currentVersions: {}, upcasters: [step('Gone', 1)] }).code).toBe('UNKNOWN_EVENT_TYPE');
    for (const version of [0, 1.5, Number.NaN, 2 ** 31]) {
      expect(refusal({ currentVersions: { Placed: version }, upcasters: [] }).code).toBe('SCHEMA_MISMATCH');
    }
  });
});
