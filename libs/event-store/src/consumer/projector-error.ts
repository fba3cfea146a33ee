/** Every way the projector refuses a request; mapped exhaustively at each edge. */
export type ProjectorErrorCode =
  /** A projection definition that cannot be run or rebuilt (bad name, unknown table...). */
  | 'INVALID_PROJECTION'
  /** No projection of that name is registered with this projector. */
  | 'UNKNOWN_PROJECTION'
  /** `waitFor` was given a checkpoint that is not one. */
  | 'INVALID_CHECKPOINT'
  /** `waitFor` ran out of time before the projection reached the target. */
  | 'WAIT_TIMEOUT'
  /** The projection passed the target, but parked some of the target transaction's events. */
  | 'EVENT_PARKED'
  /** Another rebuild of the same projection is running. */
  | 'REBUILD_IN_PROGRESS'
  /** The projector was stopped (the application is shutting down) while `waitFor` was waiting. */
  | 'PROJECTOR_STOPPED';

export interface ProjectorErrorDetails {
  projection?: string;
  /** For `EVENT_PARKED`: the parked events' global positions. */
  parkedPositions?: number[];
}

/** The one error type of the checkpointed projector. */
export class ProjectorError extends Error {
  override readonly name = 'ProjectorError';

  constructor(
    readonly code: ProjectorErrorCode,
    message: string,
    readonly details: ProjectorErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Narrows `error` to a `ProjectorError`, optionally of one code. */
export function isProjectorError(error: unknown, code?: ProjectorErrorCode): error is ProjectorError {
  return error instanceof ProjectorError && (code === undefined || error.code === code);
}
