export * from './event-envelope';
export * from './event-store-error';
export * from './event-store';
export { EVENTS_NOTIFY_CHANNEL, type AppendRow } from './append-statement';
export { MAX_EVENT_TYPE_LENGTH, MAX_STREAM_ID_LENGTH } from './append-request';
export * from './append-retry';
export * from './upcasting';
export * from './consumer';
export * from './event-store.module';
