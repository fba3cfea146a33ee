import { withAppendRetry, type EventMetadata } from '@ledger/event-store';
import { foldStream, type StreamDefinition } from './stream-definitions';
import type { StreamEvent, StreamSession, StreamSessions } from './stream-session';

/** Who asked: recorded as the events' metadata (causation and correlation, docs/events.md). */
export interface CommandContext {
  /** What caused the command: an inbox id (a notification), a request id (an API call), an event id. */
  causationId?: string;
  /** Groups everything one external input set in motion; defaults to the causation id. */
  correlationId?: string;
}

/** The events' metadata for a command's context. */
export function metadataOf(context: CommandContext = {}): EventMetadata {
  const correlationId = context.correlationId ?? context.causationId;
  return {
    ...(context.causationId === undefined ? {} : { causationId: context.causationId }),
    ...(correlationId === undefined ? {} : { correlationId }),
  };
}

/** A stream as loaded: its version (0: none) and its state. */
export interface LoadedStream<S> {
  streamId: string;
  version: number;
  state: S;
}

/** An event a command appended, with its stream version (its global position is in the decision). */
export type AppendedEvent<E extends StreamEvent> = E & { version: number };

/**
 * What one command did to its stream. `appended`: the events, the state after them, and where they landed
 * (`transactionId` and `position` are what to wait for, for read-your-writes). `no_new_fact`: a duplicate
 * or stale input, nothing appended. A refusal is the domain's coded error (`DomainError`), thrown.
 */
export type StreamDecision<E extends StreamEvent, S> =
  | {
      kind: 'appended';
      streamId: string;
      /** The stream's version after the command: its number of events. */
      version: number;
      events: AppendedEvent<E>[];
      state: S;
      transactionId: string;
      firstPosition: number;
      position: number;
    }
  | { kind: 'no_new_fact'; streamId: string; version: number; events: []; state: S };

/** How many times a command is decided again after losing a race for its streams. */
export const COMMAND_ATTEMPTS = 8;

/** The stream `streamId` as `session` reads it now. */
export async function loadStream<C, E extends StreamEvent, S>(
  session: StreamSession,
  definition: StreamDefinition<C, E, S>,
  streamId: string,
): Promise<LoadedStream<S>> {
  const { version, events } = await session.read(streamId);
  return { streamId, version, state: foldStream(definition, events) };
}

/** Decides `command` on a stream already loaded, and appends what it decided with the version it read. */
export async function decideOnLoaded<C, E extends StreamEvent, S>(
  session: StreamSession,
  definition: StreamDefinition<C, E, S>,
  loaded: LoadedStream<S>,
  command: C,
  metadata: EventMetadata,
): Promise<StreamDecision<E, S>> {
  const { streamId, version, state } = loaded;
  const decided = definition.decide(command, state);
  if (decided.length === 0) return { kind: 'no_new_fact', streamId, version, events: [], state };
  const appended = await session.append(streamId, version === 0 ? 'no_stream' : version, decided, metadata);
  return {
    kind: 'appended',
    streamId,
    version: appended.nextExpectedVersion,
    events: decided.map((event, index) => ({ ...event, version: version + index + 1 })),
    state: decided.reduce(definition.evolve, state),
    transactionId: appended.transactionId,
    firstPosition: appended.firstPosition,
    position: appended.lastPosition,
  };
}

/**
 * The command step (docs/commands.md): load the command's stream, decide, append with the expected version.
 * A stream that moved meanwhile makes the append throw the store's retryable error; `runCommand` decides
 * again.
 */
export async function decideOnStream<C, E extends StreamEvent, S>(
  session: StreamSession,
  definition: StreamDefinition<C, E, S>,
  command: C,
  metadata: EventMetadata,
): Promise<StreamDecision<E, S>> {
  const loaded = await loadStream(session, definition, definition.streamIdOf(command));
  return decideOnLoaded(session, definition, loaded, command, metadata);
}

/**
 * Runs `work` (one or more command steps) in a session of its own, and again in a new one when it loses a
 * race for a stream, at most `attempts` times (docs/event-store.md, "Appending"). Other errors, refusals
 * included, and the last lost race are thrown.
 */
export function runCommand<T, S extends StreamSession>(
  sessions: StreamSessions<S>,
  work: (session: S) => Promise<T>,
  attempts = COMMAND_ATTEMPTS,
): Promise<T> {
  return withAppendRetry(() => sessions.transaction(work), { attempts });
}
