import { Command, CommanderError } from 'commander';
import { EXIT, type ExitCode } from './cli-exit';
import { commandRunner } from './cli-run';
import { exportCommand } from './commands/export.command';
import { importLogCommand } from './commands/import-log.command';
import { importOrdersCommand } from './commands/import-orders.command';
import { migrateCommands } from './commands/migrate.command';
import { purgeUnverifiedCommand } from './commands/purge-unverified.command';
import { rebuildCommand } from './commands/rebuild.command';
import { reconcileCommand } from './commands/reconcile.command';
import { replayCommand } from './commands/replay.command';
import { statusCommand } from './commands/status.command';
import { verifyCommand } from './commands/verify.command';

const EXIT_CODES = `
Exit codes (docs/operations.md, "The CLI"):
  0   done
  1   a failure, or differences found (verify; reconcile with unanswered orders; migrate --status with
      pending migrations)
  2   done, with rows a person must look at (import-log, import-orders)
  64  usage: an unknown command or option, a bad value
  66  an input file cannot be read
  69  the database cannot be reached, or a running ledger holds the embedded database's directory
  73  the output file cannot be created
  75  busy: the projection is being rebuilt or verified; try again
  78  the configuration is invalid, or the database has pending migrations (run \`ledger migrate\`)
`;

/** The `ledger` program and how to read its exit code once it has run. */
export function ledgerProgram(): { program: Command; exitCode: () => ExitCode } {
  const { run, exitCode } = commandRunner();
  const program = new Command('ledger')
    .description(
      'The operator’s CLI of the Alipay ledger: `npx ledger <command>`, on the database the ledger is ' +
        'configured with (DATABASE_URL, or the embedded one in DATA_DIR; .env is read).',
    )
    .option('--json', 'print the result as one JSON document on stdout (diagnostics stay on stderr)')
    .option('--verbose', 'log at LOG_LEVEL on stderr; otherwise only warnings and errors')
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError('(`ledger --help` lists the commands, `ledger <command> --help` their options)')
    .addHelpText('after', EXIT_CODES)
    .exitOverride();
  const [migrate, migrateStatus] = migrateCommands(run);
  for (const command of [
    migrate,
    statusCommand(run),
    replayCommand(run),
    rebuildCommand(run),
    reconcileCommand(run),
    exportCommand(run),
    verifyCommand(run),
    importLogCommand(run),
    importOrdersCommand(run),
    purgeUnverifiedCommand(run),
  ]) {
    program.addCommand(
      command.exitOverride().configureHelp({ showGlobalOptions: true }).addHelpText('after', EXIT_CODES),
    );
  }
  // Its earlier name, kept for the scripts that use it.
  program.addCommand(migrateStatus.exitOverride(), { hidden: true });
  return { program, exitCode };
}

/** Parses `argv` (without node and the script) and runs its command; resolves the exit code. */
export async function runLedger(argv: readonly string[]): Promise<ExitCode> {
  const { program, exitCode } = ledgerProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // Help and the version asked for are answers; everything else commander refuses is usage.
    return error.code === 'commander.helpDisplayed' || error.code === 'commander.version'
      ? EXIT.ok
      : EXIT.usage;
  }
  return exitCode();
}
