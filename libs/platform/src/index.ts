export * from './config/ledger-config';
export * from './logging/ledger-logger';
export * from './database';
export { LEDGER_MIGRATIONS, pendingMigrations, runMigrations } from './migrations';
export * from './platform.module';
