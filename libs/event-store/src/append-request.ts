import { randomUUID } from 'node:crypto';
import type { EventMetadata, ExpectedVersion, NewEvent } from './event-envelope';
import type { EventSchemas } from './event-schemas';
import { EventStoreError } from './event-store-error';

/** Longest stream id and event type accepted; ids are keys, not payloads. */
export const MAX_STREAM_ID_LENGTH = 200;
export const MAX_EVENT_TYPE_LENGTH = 200;

/** The `integer` columns of the schema. */
const MAX_INT4 = 2_147_483_647;

// Control characters make ids that print ambiguously in logs and admin pages.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** An event as it is written: stamped with its type's schema version, metadata complete. */
export interface EventRow {
  type: string;
  schemaVersion: number;
  data: unknown;
  metadata: EventMetadata & { causationId: string; correlationId: string };
}

/** A validated append: `claim` says how the stream's version is claimed (docs/event-store.md). */
export interface AppendRequest {
  streamId: string;
  claim: { kind: 'create' } | { kind: 'advance'; from: number } | { kind: 'any' };
  rows: EventRow[];
}

function invalid(message: string, streamId?: string): EventStoreError {
  return new EventStoreError('INVALID_APPEND', message, streamId === undefined ? {} : { streamId });
}

/** Refuses ids that cannot name a stream; shared by reads so that both sides agree on what an id is. */
export function checkStreamId(streamId: unknown, code: 'INVALID_APPEND' | 'INVALID_READ'): string {
  const problem =
    typeof streamId !== 'string'
      ? 'must be a string'
      : streamId.length === 0
        ? 'must not be empty'
        : streamId.length > MAX_STREAM_ID_LENGTH
          ? `must be at most ${MAX_STREAM_ID_LENGTH} characters`
          : streamId.trim() !== streamId
            ? 'must not start or end with white space'
            : CONTROL_CHARACTERS.test(streamId)
              ? 'must not contain control characters'
              : undefined;
  if (problem !== undefined) {
    throw new EventStoreError(code, `stream id ${JSON.stringify(streamId)} ${problem}`);
  }
  return streamId as string;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkEvent(
  event: NewEvent,
  index: number,
  streamId: string,
  correlationId: string,
  schemas: EventSchemas,
): EventRow {
  const at = `event ${index} of the batch for ${streamId}`;
  if (!isPlainObject(event)) throw invalid(`${at} is not an object`, streamId);
  const { type, data, metadata = {} } = event;
  if (typeof type !== 'string' || type.length === 0 || type.length > MAX_EVENT_TYPE_LENGTH) {
    throw invalid(`${at} needs a type of 1 to ${MAX_EVENT_TYPE_LENGTH} characters`, streamId);
  }
  if (type.trim() !== type || CONTROL_CHARACTERS.test(type)) {
    throw invalid(`${at} has type ${JSON.stringify(type)} with white space or control characters`, streamId);
  }
  // A version chosen by the writer could disagree with the catalogue the readers upcast by.
  if (Object.hasOwn(event, 'schemaVersion')) {
    throw invalid(`${at} (${type}) names a schemaVersion; the store stamps it from the catalogue`, streamId);
  }
  const schemaVersion = schemas.versionOf(type);
  if (
    data === undefined ||
    typeof data === 'function' ||
    typeof data === 'symbol' ||
    typeof data === 'bigint'
  ) {
    throw invalid(`${at} (${type}) has data that JSON cannot hold (${typeof data})`, streamId);
  }
  if (!isPlainObject(metadata)) throw invalid(`${at} (${type}) has metadata that is not an object`, streamId);
  for (const key of ['causationId', 'correlationId'] as const) {
    const value = metadata[key];
    if (value !== undefined && (typeof value !== 'string' || value.length === 0)) {
      throw invalid(`${at} (${type}) has metadata.${key} that is not a non-empty string`, streamId);
    }
  }
  // recordedAt is the store's to say (the column recorded_at); a caller's value would be a second truth.
  const { recordedAt: _ignored, ...rest } = metadata;
  const correlation = metadata.correlationId ?? correlationId;
  return {
    type,
    schemaVersion,
    data,
    metadata: { ...rest, correlationId: correlation, causationId: metadata.causationId ?? correlation },
  };
}

/**
 * Validates an append, stamps each event with its type's current schema version from `schemas`, and fills
 * in one fresh correlation id shared by the batch when the caller gave none, with the correlation id as
 * causation id (the first message of a chain caused itself).
 *
 * @throws EventStoreError `INVALID_APPEND`; `UNKNOWN_EVENT_TYPE` for a type the catalogue does not list.
 */
export function toAppendRequest(
  streamId: string,
  expectedVersion: ExpectedVersion,
  events: readonly NewEvent[],
  schemas: EventSchemas,
): AppendRequest {
  checkStreamId(streamId, 'INVALID_APPEND');
  let claim: AppendRequest['claim'];
  if (expectedVersion === 'no_stream' || expectedVersion === 0) {
    claim = { kind: 'create' };
  } else if (expectedVersion === 'any') {
    claim = { kind: 'any' };
  } else if (Number.isInteger(expectedVersion) && expectedVersion > 0 && expectedVersion <= MAX_INT4) {
    claim = { kind: 'advance', from: expectedVersion };
  } else {
    throw invalid(
      `expected version ${JSON.stringify(expectedVersion)} for ${streamId} is not 'no_stream', 'any' ` +
        'or an integer >= 0',
      streamId,
    );
  }
  const batch: readonly NewEvent[] = Array.isArray(events) ? events : [];
  if (batch.length === 0) {
    throw invalid(`an append to ${streamId} needs at least one event`, streamId);
  }
  const current = claim.kind === 'advance' ? claim.from : 0;
  if (current + batch.length > MAX_INT4) {
    throw invalid(`${streamId} cannot grow past version ${MAX_INT4}`, streamId);
  }
  const correlationId = randomUUID();
  return {
    streamId,
    claim,
    rows: batch.map((event, index) => checkEvent(event, index, streamId, correlationId, schemas)),
  };
}
