import { Command } from 'commander';
import { pendingMigrations, runMigrations } from '@ledger/platform';
import { CLI_MIGRATIONS } from '../cli-migrations';
import { withDatabase } from '../cli-context';
import { EXIT, type ExitCode } from '../cli-exit';
import type { CliOutput } from '../cli-output';
import type { CliRunner } from '../cli-run';

/** What `migrate` applied, or with `--status` what it would apply. */
export interface MigrateReport {
  applied?: string[];
  pending?: string[];
}

export function describeMigrate(report: MigrateReport): string {
  if (report.pending !== undefined) {
    return report.pending.length === 0
      ? 'no pending migrations\n'
      : `pending: ${report.pending.join(', ')}\n`;
  }
  const applied = report.applied ?? [];
  return applied.length === 0 ? 'no pending migrations\n' : `applied: ${applied.join(', ')}\n`;
}

async function migrate(status: boolean, output: CliOutput, verbose: boolean): Promise<ExitCode> {
  return withDatabase({ verbose }, async (database, _config, logger) => {
    if (status) {
      const pending = await pendingMigrations(database.dataSource, CLI_MIGRATIONS);
      output.result({ pending }, describeMigrate);
      return pending.length > 0 ? EXIT.failure : EXIT.ok;
    }
    const applied = await runMigrations(database.dataSource, CLI_MIGRATIONS, logger);
    output.result({ applied }, describeMigrate);
    return EXIT.ok;
  });
}

/** `migrate [--status]`, and `migrate:status`, its earlier name. */
export function migrateCommands(run: CliRunner): Command[] {
  const main = new Command('migrate')
    .summary('apply the pending migrations to the configured database')
    .description(
      'Apply the pending migrations to the configured database (DATABASE_URL, or the embedded one in ' +
        'DATA_DIR); the ledger also applies them when it starts. Reads only the database settings.',
    )
    .option('--status', 'list the pending migrations instead; exit code 1 when some are pending')
    .action((options: { status?: boolean }, command: Command) =>
      run(command, (output, globals) => migrate(options.status === true, output, globals.verbose === true)),
    );
  const status = new Command('migrate:status')
    .description('the same as `migrate --status`')
    .action((_options: unknown, command: Command) =>
      run(command, (output, globals) => migrate(true, output, globals.verbose === true)),
    );
  return [main, status];
}
