export * from './config/ledger-config';
export * from './logging/ledger-logger';
