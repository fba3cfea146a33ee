import type { DestinationStream } from 'pino';
import { prettyFactory } from 'pino-pretty';
import type { LedgerMode } from '../config/ledger-mode';

/** What a terminal offers: somewhere to write, and whether it is a terminal at all. */
export interface Terminal {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  hasColors?(): boolean;
}

/**
 * Where the logs go (docs/operations.md, "Logs"): human-readable lines for a person at a terminal in demo
 * mode, JSON lines otherwise (undefined: pino's own JSON destination on stdout). Whatever reads a pipe, a file
 * or a container's output gets JSON, in every mode.
 */
export function logDestination(
  mode: LedgerMode,
  stdout: Terminal = process.stdout,
): DestinationStream | undefined {
  return mode === 'demo' && stdout.isTTY === true ? readableLines(stdout) : undefined;
}

// Said in the line itself, or noise for a person: the access line's fields repeat its message.
const LEFT_OUT = [
  'pid',
  'hostname',
  'service',
  'context',
  'requestId',
  'method',
  'path',
  'status',
  'durationMs',
  'finished',
];

/**
 * Each JSON line pino writes, turned into `12:00:01.234 INFO: [Context] message (request id)` with pino-pretty
 * in this process, and written at once: a worker thread (pino's transports) would write after whatever the
 * process prints next, the start banner among it.
 */
export function readableLines(terminal: Terminal): DestinationStream {
  const prettify = prettyFactory({
    colorize: terminal.hasColors?.() ?? false,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: LEFT_OUT.join(','),
    messageFormat: (log, messageKey) => {
      const context = typeof log.context === 'string' ? `[${log.context}] ` : '';
      const request = typeof log.requestId === 'string' ? ` (${log.requestId})` : '';
      const message = log[messageKey];
      return `${context}${typeof message === 'string' ? message : JSON.stringify(message ?? '')}${request}`;
    },
  });
  // pino's lines are JSON objects; anything else (`LedgerLogger.print`) is for a person already.
  return { write: (line: string) => terminal.write(line.startsWith('{') ? prettify(line) : line) };
}
