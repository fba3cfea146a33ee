export { compareCheckpoints, type AppendedPosition } from './checkpoint';
export type { ParkedEvent, ParkedSummary, RetryOutcome } from './parked-events';
export { REBUILD_SUFFIX, VERIFY_SUFFIX, type Projection, type ProjectionContext } from './projection';
export * from './projector';
export * from './projector-error';
export type { RebuildOutcome, RebuildStatus } from './rebuild';
export type { ProjectionProgress } from './shadow-tables';
export {
  MAX_DIFFERENCE_SAMPLES,
  type ProjectionVerification,
  type RowDifference,
  type TableVerification,
} from './verify-projection';
