import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import { boundedRecord, cutText, MAX_LOG_STRING } from './bounded-record';
import { currentRequest, type AccessLog } from './request-context';

/**
 * Nest's account of its own start: a line per module, controller and route (about fifty for the ledger),
 * which says nothing an operator acts on. Written at `debug`, where they are still there to read.
 */
const FRAMEWORK_START = new Set([
  'NestFactory',
  'InstanceLoader',
  'RoutesResolver',
  'RouterExplorer',
  'NestApplication',
]);

/**
 * Structured JSON logs (pino) behind Nest's LoggerService, so framework and ledger logs share one stream.
 * Every line written while a request is handled names its `requestId`; every line is bounded in size; Nest's
 * start lines go to `debug` (docs/operations.md, "Logs"). `destination` is stdout unless given (a
 * terminal's readable lines, `logDestination`).
 */
export class LedgerLogger implements LoggerService, AccessLog {
  readonly pino: Logger;
  private readonly destination: pino.DestinationStream;

  // Written as they come: a line is out before the next statement runs, so none is lost when the process
  // stops at once, and text printed after a line comes after it. The ledger writes few lines at `info`.
  constructor(
    level: string,
    destination: pino.DestinationStream = pino.destination({ dest: 1, sync: true }),
  ) {
    this.destination = destination;
    this.pino = pino(
      {
        level,
        base: { service: 'ledger' },
        mixin: () => {
          const request = currentRequest();
          return request === undefined ? {} : { requestId: request.requestId };
        },
      },
      destination,
    );
  }

  log(message: unknown, context?: string): void {
    this.write(context !== undefined && FRAMEWORK_START.has(context) ? 'debug' : 'info', message, context);
  }
  error(message: unknown, traceOrContext?: string, context?: string): void {
    const stack = context === undefined ? undefined : traceOrContext;
    this.write('error', message, context ?? traceOrContext, stack);
  }
  warn(message: unknown, context?: string): void {
    this.write('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.write('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.write('trace', message, context);
  }
  fatal(message: unknown, context?: string): void {
    this.write('fatal', message, context);
  }

  /** Text for a person (the demo's start banner), written as it is where the lines go, after them. */
  print(text: string): void {
    this.destination.write(text);
  }

  /** The access line of a request: debug when it went well, info for a client error, warn for a 5xx. */
  request(line: {
    method: string;
    path: string;
    status: number;
    durationMs: number;
    finished: boolean;
  }): void {
    const level = line.status >= 500 || !line.finished ? 'warn' : line.status >= 400 ? 'info' : 'debug';
    if (!this.pino.isLevelEnabled(level)) return;
    this.pino[level](
      { context: 'HTTP', ...(boundedRecord(line) as object) },
      `${line.method} ${cutText(line.path, 200)} ${line.finished ? line.status : 'aborted'} ${line.durationMs} ms`,
    );
  }

  private write(level: pino.Level, message: unknown, context?: string, stack?: string): void {
    if (!this.pino.isLevelEnabled(level)) return;
    if (message instanceof Error) {
      this.pino[level]({ context, err: boundedRecord(message) }, cutText(message.message, MAX_LOG_STRING));
    } else if (typeof message === 'object' && message !== null) {
      this.pino[level]({ context, ...(boundedRecord(message) as object) });
    } else {
      this.pino[level](
        { context, ...(stack === undefined ? {} : { stack: cutText(stack, MAX_LOG_STRING) }) },
        cutText(String(message), MAX_LOG_STRING),
      );
    }
  }
}
