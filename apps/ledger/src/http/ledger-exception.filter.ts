import { STATUS_CODES } from 'node:http';
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { GatewayError } from '@ledger/alipay-gateway';
import { CommandError } from '@ledger/commands';
import { DomainError } from '@ledger/domain';
import { EventStoreError, ProjectorError } from '@ledger/event-store';
import { InboxError } from '@ledger/inbox';
import { LedgerLogger } from '@ledger/platform';
import { ProjectionsError } from '@ledger/projections';
import { ApiError } from './api-error';
import { isDatabaseUnavailable } from './database-unavailable';

/** The body of every error the JSON API answers (docs/product-rules.md, "Errors"). */
export interface ErrorBody {
  statusCode: number;
  /** The status's reason phrase. */
  error: string;
  /** What was wrong, precisely; a validation message starts with the field's name. */
  message: string;
}

const CONTEXT = 'HTTP';

/**
 * Every 503 says when to come back: soon, since the causes (a busy pool, a restarting database, a gateway
 * away) last seconds. The acquire timeout already made the client wait that long once.
 */
export const RETRY_AFTER_SECONDS = 5;

function apiStatus(error: ApiError): number {
  const { code } = error;
  switch (code) {
    case 'INVALID_REQUEST':
      return 400;
    case 'UNAUTHORIZED':
      return 401;
    case 'NOT_FOUND':
      return 404;
    default:
      return code satisfies never;
  }
}

function domainStatus(error: DomainError): number {
  const { code } = error;
  switch (code) {
    case 'INVALID_OUT_TRADE_NO':
    case 'INVALID_ORDER':
    case 'INVALID_BATCH':
    case 'INVALID_RESOLUTION':
      return 400;
    case 'ORDER_NOT_FOUND':
    case 'BATCH_NOT_FOUND':
      return 404;
    case 'ORDER_CONFLICT':
    case 'ORDER_NOT_PAID':
    case 'REFUND_NOT_ALLOWED':
    case 'REFUND_EXCEEDS_REFUNDABLE':
    case 'REFUND_RESERVATION_CONFLICT':
    case 'BATCH_CONFLICT':
    case 'DELIVERY_NOT_DUE':
    case 'RETURN_NOT_DUE':
    case 'SHIPPING_NOT_DUE':
    case 'BATCH_NOT_CANCELLABLE':
    case 'BATCH_OUTCOME_NOT_UNKNOWN':
    case 'NO_OPEN_ANOMALY':
      return 409;
    default:
      return code satisfies never;
  }
}

function eventStoreStatus(error: EventStoreError): number {
  const { code } = error;
  switch (code) {
    // Still losing the race after every retry: the client may try again.
    case 'WRONG_EXPECTED_VERSION':
    case 'STREAM_ORDER_CONFLICT':
      return 409;
    // Input is validated before it reaches the store: these are defects, not the client's fault.
    case 'INVALID_APPEND':
    case 'INVALID_READ':
    case 'UNKNOWN_EVENT_TYPE':
    case 'SCHEMA_MISMATCH':
    case 'UPCASTER_MISSING':
    case 'UPCAST_FAILED':
      return 500;
    default:
      return code satisfies never;
  }
}

function projectorStatus(error: ProjectorError): number {
  const { code } = error;
  switch (code) {
    case 'REBUILD_IN_PROGRESS':
      return 409;
    case 'WAIT_TIMEOUT':
    case 'PROJECTOR_STOPPED':
      return 503;
    case 'INVALID_PROJECTION':
    case 'UNKNOWN_PROJECTION':
    case 'INVALID_CHECKPOINT':
    case 'EVENT_PARKED':
      return 500;
    default:
      return code satisfies never;
  }
}

function projectionsStatus(error: ProjectionsError): number {
  const { code } = error;
  switch (code) {
    case 'INVALID_CURSOR':
    case 'INVALID_FILTER':
      return 400;
    case 'STALE_ORDER_STATE':
      return 500;
    default:
      return code satisfies never;
  }
}

function inboxStatus(error: InboxError): number {
  const { code } = error;
  switch (code) {
    case 'INVALID_FILTER':
    case 'INVALID_CURSOR':
      return 400;
    case 'NOTIFICATION_NOT_FOUND':
      return 404;
    default:
      return code satisfies never;
  }
}

function commandStatus(error: CommandError): number {
  const { code } = error;
  switch (code) {
    case 'INVALID_REPLAY_SELECTION':
      return 400;
    case 'IDEMPOTENCY_KEY_IN_USE':
      return 409;
    case 'IDEMPOTENCY_KEY_REUSED':
      return 422;
    default:
      return code satisfies never;
  }
}

function gatewayStatus(error: GatewayError): number {
  const { code } = error;
  switch (code) {
    // Alipay answered, but not with something the ledger can act on.
    case 'BAD_REPLY':
    case 'REJECTED':
      return 502;
    case 'UNREACHABLE':
    case 'TIMEOUT':
    case 'ABORTED':
      return 503;
    // Requests are built from validated input: a request that cannot be built or signed is a defect.
    case 'INVALID_REQUEST':
      return 500;
    default:
      return code satisfies never;
  }
}

/** The message of one of Nest's own exceptions (unknown route, body too large, bad JSON...). */
function httpExceptionMessage(exception: HttpException): string {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const { message } = response as { message?: unknown };
  if (Array.isArray(message)) return message.map(String).join('; ');
  return typeof message === 'string' ? message : exception.message;
}

/** The status of a coded error of the ledger, or undefined for anything else (the console maps them too). */
export function codedStatus(exception: unknown): number | undefined {
  if (exception instanceof ApiError) return apiStatus(exception);
  if (exception instanceof DomainError) return domainStatus(exception);
  if (exception instanceof EventStoreError) return eventStoreStatus(exception);
  if (exception instanceof ProjectorError) return projectorStatus(exception);
  if (exception instanceof ProjectionsError) return projectionsStatus(exception);
  if (exception instanceof InboxError) return inboxStatus(exception);
  if (exception instanceof CommandError) return commandStatus(exception);
  if (exception instanceof GatewayError) return gatewayStatus(exception);
  return undefined;
}

/**
 * Maps every coded error of the ledger to `{statusCode, error, message}` (docs/product-rules.md, "Errors"):
 * 400 validation, 401 auth, 404 unknown, 409 conflicts, 502/503 when the gateway, the projections or the
 * database cannot answer (503 with `Retry-After`). A 5xx is logged with its stack; a 500 is answered without internals. The Alipay edge answers
 * `success`/`fail` itself and never lets an error reach this filter.
 */
@Catch()
@Injectable()
export class LedgerExceptionFilter implements ExceptionFilter {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly logger: LedgerLogger,
  ) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const { httpAdapter } = this.adapterHost;
    const response: unknown = host.switchToHttp().getResponse();
    const coded = codedStatus(exception);
    let statusCode: number;
    let message: string;
    if (coded !== undefined) {
      statusCode = coded;
      message = (exception as Error).message;
    } else if (isDatabaseUnavailable(exception)) {
      statusCode = 503;
      // The driver's own message may name hosts, tables or statements.
      message = 'the database cannot answer now; retry later';
    } else if (exception instanceof HttpException) {
      statusCode = exception.getStatus();
      message = httpExceptionMessage(exception);
    } else {
      statusCode = 500;
      message = 'internal error';
    }
    if (statusCode >= 500) {
      this.logger.error(exception instanceof Error ? exception : String(exception), CONTEXT);
      // A defect's message may describe internals; 502/503 say which dependency is down, which helps.
      if (statusCode === 500) message = 'internal error';
    }
    if (httpAdapter.isHeadersSent(response)) return;
    if (statusCode === 401) httpAdapter.setHeader(response, 'WWW-Authenticate', 'Bearer');
    if (statusCode === 503) httpAdapter.setHeader(response, 'Retry-After', String(RETRY_AFTER_SECONDS));
    const body: ErrorBody = { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
    httpAdapter.reply(response, body, statusCode);
  }
}
