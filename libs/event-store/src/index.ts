export * from './event-envelope';
export * from './event-store-error';
export * from './event-store';
export * from './event-schemas';
export { EVENTS_NOTIFY_CHANNEL, type CommitWith } from './append-statement';
export { MAX_EVENT_TYPE_LENGTH, MAX_STREAM_ID_LENGTH } from './append-request';
export * from './append-retry';
export * from './upcasting';
export * from './consumer';
export {
  checkStreamVersions,
  MAX_STREAM_PROBLEMS,
  type StreamVersionCheck,
  type StreamVersionProblem,
} from './stream-versions';
export * from './event-store.module';
export { EVENT_STORE_MIGRATIONS } from './migrations';
