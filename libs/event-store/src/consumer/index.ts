export { compareCheckpoints, type AppendedPosition } from './checkpoint';
export type { ParkedEvent, RetryOutcome } from './parked-events';
export { REBUILD_SUFFIX, type Projection, type ProjectionContext } from './projection';
export * from './projector';
export * from './projector-error';
export type { RebuildOutcome } from './rebuild';
