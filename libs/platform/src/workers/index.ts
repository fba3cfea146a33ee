export { Backoff, backoffDelayMs, type BackoffPolicy } from './backoff';
export { Pauses } from './pauses';
export { withinTime } from './time-limit';
export { WakeSignal } from './wake-signal';
export {
  DEFAULT_LEASE_TIMING,
  LeaseTable,
  WorkerLease,
  type LeaseTiming,
  type MonotonicClock,
} from './worker-lease';
export {
  DEFAULT_FAILURE_BACKOFF,
  LeaseLapsedError,
  WorkerLoop,
  type PassResult,
  type WorkerLoopOptions,
} from './worker-loop';
export { BUSY_FROM_REQUESTS, BUSY_LINGER_MS, ForegroundWork } from './foreground-work';
