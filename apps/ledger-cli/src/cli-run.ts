import type { Command } from 'commander';
import { EXIT, failureOf, type ExitCode } from './cli-exit';
import { CliOutput } from './cli-output';
import type { GlobalOptions } from './cli-options';

/** What a command's action does with its output and the global options; resolves its exit code. */
export type CliAction = (output: CliOutput, globals: GlobalOptions) => Promise<ExitCode>;

/** Runs a command's action for the program, catching what it throws: how every command is wired. */
export type CliRunner = (command: Command, action: CliAction) => Promise<void>;

/**
 * A runner that remembers the exit code of the command it ran. A failure is written on stderr (with its
 * stack when unexpected) and, with `--json`, as `{"error": {code, message}}` on stdout: scripts get one JSON
 * document whatever happens.
 */
export function commandRunner(): { run: CliRunner; exitCode: () => ExitCode } {
  let exit: ExitCode = EXIT.ok;
  const run: CliRunner = async (command, action) => {
    const globals = command.optsWithGlobals<GlobalOptions>();
    const output = new CliOutput(globals.json === true);
    try {
      exit = await action(output, globals);
    } catch (error) {
      const failure = failureOf(error);
      exit = failure.exit;
      output.note(failure.stack ?? failure.message);
      if (output.json) output.result({ error: { code: failure.code, message: failure.message } }, () => '');
    }
  };
  return { run, exitCode: () => exit };
}
