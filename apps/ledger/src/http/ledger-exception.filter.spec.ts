import { BadRequestException, NotFoundException, type ArgumentsHost } from '@nestjs/common';
import type { HttpAdapterHost } from '@nestjs/core';
import { GatewayError } from '@ledger/alipay-gateway';
import { CommandError } from '@ledger/commands';
import { DomainError } from '@ledger/domain';
import { EventStoreError, ProjectorError } from '@ledger/event-store';
import { InboxError } from '@ledger/inbox';
import type { LedgerLogger } from '@ledger/platform';
import { ProjectionsError } from '@ledger/projections';
import { ApiError } from './api-error';
import { LedgerExceptionFilter } from './ledger-exception.filter';

interface Reply {
  status?: number;
  body?: unknown;
  headers: Record<string, string>;
}

function answer(exception: unknown, headersSent = false): { reply: Reply; logged: unknown[] } {
  const reply: Reply = { headers: {} };
  const logged: unknown[] = [];
  const adapterHost = {
    httpAdapter: {
      isHeadersSent: () => headersSent,
      setHeader: (_response: unknown, name: string, value: string) => (reply.headers[name] = value),
      reply: (_response: unknown, body: unknown, status: number) => Object.assign(reply, { body, status }),
    },
  } as unknown as HttpAdapterHost;
  const logger = { error: (message: unknown) => logged.push(message) } as unknown as LedgerLogger;
  const host = { switchToHttp: () => ({ getResponse: () => ({}) }) } as unknown as ArgumentsHost;
  new LedgerExceptionFilter(adapterHost, logger).catch(exception, host);
  return { reply, logged };
}

describe('LedgerExceptionFilter', () => {
  it.each([
    [new ApiError('INVALID_REQUEST', 'totalFee: must be yuan', 'totalFee'), 400, 'Bad Request'],
    [new DomainError('INVALID_ORDER', 'subject must not be empty', 'subject'), 400, 'Bad Request'],
    [new ProjectionsError('INVALID_CURSOR', 'cursor is not one this ledger handed out'), 400, 'Bad Request'],
    [new CommandError('INVALID_REPLAY_SELECTION', 'from must be before to', 'to'), 400, 'Bad Request'],
    [new ApiError('NOT_FOUND', 'the ledger knows no order X'), 404, 'Not Found'],
    [new InboxError('INVALID_FILTER', 'state must be one of applied, failed', 'state'), 400, 'Bad Request'],
    [new InboxError('INVALID_CURSOR', 'cursor is not one this API handed out', 'cursor'), 400, 'Bad Request'],
    [new InboxError('NOTIFICATION_NOT_FOUND', 'no notification 9 in the inbox'), 404, 'Not Found'],
    [new DomainError('ORDER_CONFLICT', 'order X was already placed with other data'), 409, 'Conflict'],
    [new EventStoreError('WRONG_EXPECTED_VERSION', 'stream order-X was expected at 1'), 409, 'Conflict'],
    [
      new CommandError('IDEMPOTENCY_KEY_IN_USE', 'a request with key k is still being submitted'),
      409,
      'Conflict',
    ],
    [
      new CommandError('IDEMPOTENCY_KEY_REUSED', 'key k was sent with another request'),
      422,
      'Unprocessable Entity',
    ],
    [
      new ProjectorError('REBUILD_IN_PROGRESS', 'projection order_status is already being rebuilt'),
      409,
      'Conflict',
    ],
    [
      new GatewayError('REJECTED', 'Alipay refused: TRADE_NOT_EXIST', {
        service: 'send_goods_confirm_by_platform',
        retryable: false,
      }),
      502,
      'Bad Gateway',
    ],
    [
      new GatewayError('TIMEOUT', 'notify_verify did not answer within 5000 ms', {
        service: 'notify_verify',
        retryable: true,
      }),
      503,
      'Service Unavailable',
    ],
    [
      new ProjectorError('WAIT_TIMEOUT', 'projection order_status did not reach 12/34'),
      503,
      'Service Unavailable',
    ],
  ])('answers %s with its status and its message', (exception, statusCode, error) => {
    const { reply } = answer(exception);
    expect(reply.status).toBe(statusCode);
    expect(reply.body).toEqual({ statusCode, error, message: exception.message });
  });

  it('asks for a bearer token with every 401', () => {
    const { reply } = answer(new ApiError('UNAUTHORIZED', 'the bearer token is not the admin token'));
    expect(reply.status).toBe(401);
    expect(reply.headers).toEqual({ 'WWW-Authenticate': 'Bearer' });
  });

  it("keeps the status and message of Nest's own exceptions", () => {
    expect(answer(new NotFoundException('Cannot GET /nowhere')).reply.body).toEqual({
      statusCode: 404,
      error: 'Not Found',
      message: 'Cannot GET /nowhere',
    });
    expect(answer(new BadRequestException(['a is wrong', 'b is wrong'])).reply.body).toMatchObject({
      statusCode: 400,
      message: 'a is wrong; b is wrong',
    });
  });

  it('logs a defect and answers 500 without its internals', () => {
    for (const exception of [
      new Error('relation "order_status" does not exist'),
      new EventStoreError('UPCAST_FAILED', 'upcaster of OrderPlaced v1 threw at position 7'),
      'a thrown string',
    ]) {
      const { reply, logged } = answer(exception);
      expect(reply.body).toEqual({
        statusCode: 500,
        error: 'Internal Server Error',
        message: 'internal error',
      });
      expect(logged).toHaveLength(1);
    }
  });

  it('writes nothing once the response has started', () => {
    const { reply } = answer(new ApiError('NOT_FOUND', 'gone'), true);
    expect(reply.status).toBeUndefined();
  });
});
