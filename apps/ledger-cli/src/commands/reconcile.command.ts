import { parseArgs } from 'node:util';
import { Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { LEDGER_EVENT_CATALOGUE } from '@ledger/domain';
import { EventStoreModule } from '@ledger/event-store';
import {
  LedgerConfig,
  LedgerLogger,
  loadConfig,
  openDatabase,
  pendingMigrations,
  PlatformModule,
} from '@ledger/platform';
import { ReconcileModule, Reconciler, type ReconcileSelection } from '@ledger/processes';
import { CLI_MIGRATIONS } from './cli-migrations';

export const RECONCILE_USAGE = `  reconcile (--order OUT_TRADE_NO ... | --from ISO --to ISO) [--dry-run]
                   ask Alipay (single_trade_query) about the orders listed, or placed in the range
                   and awaiting payment; prints the report as JSON. Needs the ledger's configuration
`;

/** The options of `reconcile`, or the reason they are not usable (a usage error). */
export type ReconcileOptions =
  { ok: true; selection: ReconcileSelection; dryRun: boolean } | { ok: false; message: string };

const OUT_TRADE_NO = /^[A-Za-z0-9_-]{1,64}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;
const MAX_ORDERS = 1_000;

export function parseReconcileOptions(args: string[]): ReconcileOptions {
  let values: { order?: string[]; from?: string; to?: string; 'dry-run'?: boolean };
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        order: { type: 'string', multiple: true },
        from: { type: 'string' },
        to: { type: 'string' },
        'dry-run': { type: 'boolean' },
      },
    }));
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  const dryRun = values['dry-run'] === true;
  const range = values.from !== undefined || values.to !== undefined;
  if ((values.order !== undefined) === range) {
    return { ok: false, message: 'reconcile: give --order (one or more), or --from with --to' };
  }
  if (values.order !== undefined) {
    const bad = values.order.find((order) => !OUT_TRADE_NO.test(order));
    if (bad !== undefined) {
      return { ok: false, message: `--order ${JSON.stringify(bad)}: 1 to 64 letters, digits, "_" or "-"` };
    }
    if (values.order.length > MAX_ORDERS) return { ok: false, message: `--order: at most ${MAX_ORDERS}` };
    return { ok: true, selection: { outTradeNos: values.order }, dryRun };
  }
  const { from, to } = values;
  if (from === undefined || to === undefined) return { ok: false, message: '--from and --to go together' };
  const bad = [from, to].find((value) => !INSTANT.test(value) || Number.isNaN(Date.parse(value)));
  if (bad !== undefined) {
    return {
      ok: false,
      message: `${JSON.stringify(bad)}: an ISO 8601 instant with its zone, e.g. 2024-05-01T00:00:00Z`,
    };
  }
  if (Date.parse(from) >= Date.parse(to)) return { ok: false, message: '--to must be after --from' };
  return { ok: true, selection: { from: new Date(from), to: new Date(to) }, dryRun };
}

@Module({})
class ReconcileCliModule {
  static forRoot(runtime: Parameters<typeof PlatformModule.forRoot>[0]): DynamicModule {
    return {
      module: ReconcileCliModule,
      imports: [
        PlatformModule.forRoot(runtime),
        PlatformModule,
        EventStoreModule.forRoot({ catalogue: LEDGER_EVENT_CATALOGUE }),
        ReconcileModule,
      ],
    };
  }
}

/**
 * Runs one reconcile on the ledger's database with its Alipay configuration (docs/operations.md,
 * "Reconciliation"): the same code as `POST /admin/reconcile`, the scheduled queries left to the ledger.
 * Resolves with the exit code: 1 when an order got no answer.
 */
export async function reconcile(options: Extract<ReconcileOptions, { ok: true }>): Promise<number> {
  const loaded = loadConfig();
  const config = new LedgerConfig({ ...loaded, reconcile: { ...loaded.reconcile, enabled: false } });
  const logger = new LedgerLogger(config.logLevel);
  const database = await openDatabase({
    databaseUrl: config.database.url,
    dataDir: config.database.dataDir,
    poolSize: 4,
    statementTimeoutMs: config.database.statementTimeoutMs,
    lockTimeoutMs: config.database.lockTimeoutMs,
    acquireTimeoutMs: config.database.acquireTimeoutMs,
    applicationName: 'ledger-cli',
    logger,
  });
  try {
    const pending = await pendingMigrations(database.dataSource, CLI_MIGRATIONS);
    if (pending.length > 0) {
      process.stderr.write(`pending migrations (${pending.join(', ')}): run ledger-cli migrate first\n`);
      return 1;
    }
    const app = await NestFactory.createApplicationContext(
      ReconcileCliModule.forRoot({ config, database, logger }),
      { logger },
    );
    try {
      const report = await app.get(Reconciler).reconcile(options.selection, options.dryRun);
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return report.totals.errors > 0 ? 1 : 0;
    } finally {
      await app.close();
    }
  } finally {
    await database.close();
  }
}
