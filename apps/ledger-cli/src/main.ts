import 'reflect-metadata';
import { runLedger } from './cli-program';
import { EXIT } from './cli-exit';

// `npx ledger <command>` (docs/operations.md, "The CLI"). The exit code is set once stdout has taken
// everything written to it: a script piping a result reads it whole.
runLedger(process.argv.slice(2)).then(
  (code) => process.stdout.write('', () => process.exit(code)),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(EXIT.failure);
  },
);
