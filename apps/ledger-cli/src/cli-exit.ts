import { CommanderError } from 'commander';
import { CommandError } from '@ledger/commands';
import { ProjectorError } from '@ledger/event-store';
import { OrderTableError } from '@ledger/legacy-import';
import { ConfigError } from '@ledger/platform';
import { ProjectionsError } from '@ledger/projections';

/**
 * The exit codes scripts read (docs/operations.md, "The CLI"), sysexits.h where one fits: 0 done; 1 a
 * failure, or differences found (`verify`, `reconcile` with unanswered orders, `migrate --status` with
 * pending migrations); 2 done, with rows a person must look at (the imports); 64 usage; 66 an input file
 * cannot be read; 69 the database cannot be reached or its directory is in use; 73 the output file cannot
 * be created; 75 busy (the projection is being rebuilt or verified), try again; 78 the configuration is
 * invalid or the schema has pending migrations.
 */
export const EXIT = {
  ok: 0,
  failure: 1,
  attention: 2,
  usage: 64,
  noInput: 66,
  unavailable: 69,
  cantCreate: 73,
  busy: 75,
  config: 78,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Every way the CLI itself refuses, each with its exit code. */
export type CliErrorCode =
  'USAGE' | 'NO_INPUT' | 'CANNOT_CREATE' | 'DATABASE_UNAVAILABLE' | 'PENDING_MIGRATIONS' | 'BUSY';

const CLI_EXITS: Readonly<Record<CliErrorCode, ExitCode>> = {
  USAGE: EXIT.usage,
  NO_INPUT: EXIT.noInput,
  CANNOT_CREATE: EXIT.cantCreate,
  DATABASE_UNAVAILABLE: EXIT.unavailable,
  PENDING_MIGRATIONS: EXIT.config,
  BUSY: EXIT.busy,
};

/** The CLI's coded error, mapped to its exit code like every lib's at this edge. */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    readonly code: CliErrorCode,
    message: string,
  ) {
    super(message);
  }

  get exit(): ExitCode {
    return CLI_EXITS[this.code];
  }
}

/** A usage error: bad options, caught before anything is opened. */
export function usage(message: string): CliError {
  return new CliError('USAGE', message);
}

/** What a failed command reports: its exit code, a code for scripts, and the message. */
export interface Failure {
  exit: ExitCode;
  code: string;
  message: string;
  /** Unexpected errors keep their stack for stderr. */
  stack?: string;
}

/** Maps whatever a command threw to its exit code, exhaustively for the coded errors it can meet. */
export function failureOf(error: unknown): Failure {
  if (error instanceof CliError) return { exit: error.exit, code: error.code, message: error.message };
  if (error instanceof ConfigError) return { exit: EXIT.config, code: 'CONFIG', message: error.message };
  if (error instanceof CommanderError) return { exit: EXIT.usage, code: 'USAGE', message: error.message };
  if (error instanceof OrderTableError) return { exit: EXIT.usage, code: 'USAGE', message: error.message };
  if (error instanceof ProjectionsError) {
    const exit =
      error.code === 'INVALID_FILTER' || error.code === 'INVALID_CURSOR' ? EXIT.usage : EXIT.failure;
    return { exit, code: error.code, message: error.message };
  }
  if (error instanceof CommandError) {
    const exit = error.code === 'INVALID_REPLAY_SELECTION' ? EXIT.usage : EXIT.failure;
    return { exit, code: error.code, message: error.message };
  }
  if (error instanceof ProjectorError) {
    const exit =
      error.code === 'REBUILD_IN_PROGRESS'
        ? EXIT.busy
        : error.code === 'UNKNOWN_PROJECTION'
          ? EXIT.usage
          : EXIT.failure;
    return { exit, code: error.code, message: error.message };
  }
  const message = error instanceof Error ? error.message : String(error);
  return {
    exit: EXIT.failure,
    code: 'FAILURE',
    message,
    ...(error instanceof Error && error.stack !== undefined ? { stack: error.stack } : {}),
  };
}
