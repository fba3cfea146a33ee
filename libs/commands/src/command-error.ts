/** Every way the command path refuses a request of its own (the domain's refusals are `DomainError`s). */
export type CommandErrorCode =
  /** A replay selection that selects nothing sensible (no ids, an inverted time range...). */
  | 'INVALID_REPLAY_SELECTION'
  /** An `Idempotency-Key` of POST /refunds sent again with another request. */
  | 'IDEMPOTENCY_KEY_REUSED'
  /** An `Idempotency-Key` of POST /refunds whose first request is still being submitted. */
  | 'IDEMPOTENCY_KEY_IN_USE';

/** The coded error of the command path: a code from a fixed list, a precise message, the field at fault. */
export class CommandError extends Error {
  override readonly name = 'CommandError';

  constructor(
    readonly code: CommandErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
