import { MAX_STREAM_ID_LENGTH, toAppendRequest } from './append-request';
import type { ExpectedVersion, NewEvent } from './event-envelope';
import { EventSchemas } from './event-schemas';
import { EventStoreError } from './event-store-error';

const schemas = new EventSchemas({
  currentVersions: { OrderPlaced: 2, Note: 1 },
  upcasters: [{ type: 'OrderPlaced', fromSchemaVersion: 1, upcast: (data) => data }],
});

const event: NewEvent = { type: 'OrderPlaced', data: { totalFee: 1234 } };

function refusal(streamId: string, expected: ExpectedVersion, events: readonly NewEvent[]): EventStoreError {
  try {
    toAppendRequest(streamId, expected, events, schemas);
  } catch (error) {
    if (error instanceof EventStoreError) return error;
    throw error;
  }
  throw new Error('expected INVALID_APPEND');
}

describe('toAppendRequest', () => {
  it('maps the expected version to how the stream is claimed; 0 means the stream must not exist', () => {
    expect(toAppendRequest('s', 'no_stream', [event], schemas).claim).toEqual({ kind: 'create' });
    expect(toAppendRequest('s', 0, [event], schemas).claim).toEqual({ kind: 'create' });
    expect(toAppendRequest('s', 'any', [event], schemas).claim).toEqual({ kind: 'any' });
    expect(toAppendRequest('s', 3, [event], schemas).claim).toEqual({ kind: 'advance', from: 3 });
  });

  it("stamps each type's catalogue version; one fresh correlation id serves the batch and as causation id", () => {
    const first = toAppendRequest(
      's',
      'any',
      [event, { ...event, metadata: { causationId: 'inbox-9' } }, { type: 'Note', data: {} }],
      schemas,
    );
    const second = toAppendRequest('s', 'any', [event], schemas);
    const [a, b, note] = first.rows;
    expect([a.schemaVersion, b.schemaVersion, note.schemaVersion]).toEqual([2, 2, 1]);
    expect(a.metadata.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(b.metadata.correlationId).toBe(a.metadata.correlationId);
    expect(a.metadata.causationId).toBe(a.metadata.correlationId);
    expect(b.metadata.causationId).toBe('inbox-9');
    expect(second.rows[0].metadata.correlationId).not.toBe(a.metadata.correlationId);
  });

  it("keeps the caller's metadata, and drops a recordedAt the store owns", () => {
    const [row] = toAppendRequest(
      's',
      'any',
      [
        {
          type: 'OrderPlaced',
          data: null,
          metadata: { correlationId: 'c', causationId: 'k', recordedAt: 'yesterday', actor: 'admin' },
        },
      ],
      schemas,
    ).rows;
    expect(row).toEqual({
      type: 'OrderPlaced',
      schemaVersion: 2,
      data: null,
      metadata: { correlationId: 'c', causationId: 'k', actor: 'admin' },
    });
  });

  it.each([
    ['', 'stream id "" must not be empty'],
    [' order-1', 'stream id " order-1" must not start or end with white space'],
    ['order\n1', 'stream id "order\\n1" must not contain control characters'],
    ['x'.repeat(MAX_STREAM_ID_LENGTH + 1), `must be at most ${MAX_STREAM_ID_LENGTH} characters`],
  ])('refuses the stream id %j', (streamId, message) => {
    const error = refusal(streamId, 'any', [event]);
    expect(error.code).toBe('INVALID_APPEND');
    expect(error.message).toContain(message);
  });

  it.each([[-1], [1.5], [Number.NaN], ['3' as unknown as number], [2 ** 31]])(
    'refuses the expected version %p',
    (expected) => {
      expect(refusal('s', expected, [event]).message).toMatch(/^expected version .* for s is not/);
    },
  );

  it('refuses an empty batch', () => {
    expect(refusal('s', 'any', []).message).toBe('an append to s needs at least one event');
  });

  it.each<[string, NewEvent, string]>([
    ['an empty type', { type: '', data: {} }, 'needs a type'],
    ['a padded type', { type: 'OrderPlaced ', data: {} }, 'white space or control characters'],
    [
      'a schema version of its own',
      { ...event, schemaVersion: 2 } as NewEvent,
      'names a schemaVersion; the store stamps it from the catalogue',
    ],
    ['undefined data', { type: 'OrderPlaced', data: undefined }, 'data that JSON cannot hold (undefined)'],
    ['bigint data', { type: 'OrderPlaced', data: 10n }, 'data that JSON cannot hold (bigint)'],
    ['array metadata', { ...event, metadata: [] as never }, 'metadata that is not an object'],
    ['an empty causation id', { ...event, metadata: { causationId: '' } }, 'metadata.causationId'],
    [
      'a numeric correlation id',
      { ...event, metadata: { correlationId: 7 as never } },
      'metadata.correlationId',
    ],
  ])('refuses an event with %s, naming its place in the batch', (_, bad, message) => {
    const error = refusal('order-1', 'any', [event, bad]);
    expect(error.message).toContain('event 1 of the batch for order-1');
    expect(error.message).toContain(message);
    expect(error.details.streamId).toBe('order-1');
  });

  it('refuses a type the catalogue does not list', () => {
    const error = refusal('order-1', 'any', [event, { type: 'OrderPlacedd', data: {} }]);
    expect(error.code).toBe('UNKNOWN_EVENT_TYPE');
    expect(error.message).toBe(
      'event type "OrderPlacedd" is not in the event catalogue; add it with its schema version',
    );
  });
});
