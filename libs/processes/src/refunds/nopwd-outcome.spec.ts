import { GatewayError, type GatewayAcceptance } from '@ledger/alipay-gateway';
import { parseGatewayReply } from '@ledger/alipay-protocol';
import { nopwdAttemptOutcome, nopwdCommand, UNSPECIFIED_REJECTION } from './nopwd-outcome';

const SERVICE = 'refund_fastpay_by_platform_nopwd';
const BATCH = '20240502000123';
const AT = new Date('2024-05-02T02:00:01.000Z');

function acceptance(isSuccess: 'T' | 'P'): GatewayAcceptance {
  const reply = parseGatewayReply(`<alipay><is_success>${isSuccess}</is_success></alipay>`);
  if (!reply.ok || reply.value.status === 'rejected') throw new Error('unexpected reply');
  return { status: reply.value.status, reply: reply.value, latencyMs: 12 };
}

function rejected(alipayCode: string | undefined, retryable = false): GatewayError {
  return new GatewayError('REJECTED', `${SERVICE}: Alipay refused the request`, {
    service: SERVICE,
    retryable,
    ...(alipayCode === undefined ? {} : { alipayCode }),
  });
}

const failed = (code: GatewayError['code']) =>
  new GatewayError(code, `${SERVICE}: ${code}`, { service: SERVICE, retryable: true });

describe('reading one nopwd call', () => {
  it('takes T and P as accepted', () => {
    expect(nopwdAttemptOutcome({ acceptance: acceptance('T') })).toEqual({ kind: 'accept', reply: 'T' });
    expect(nopwdAttemptOutcome({ acceptance: acceptance('P') })).toEqual({ kind: 'accept', reply: 'P' });
  });

  it('takes DUPLICATE_BATCH_NO as accepted: the batch_no is ours, an earlier call got through', () => {
    expect(nopwdAttemptOutcome({ error: rejected('DUPLICATE_BATCH_NO') })).toEqual({
      kind: 'accept',
      reply: 'DUPLICATE_BATCH_NO',
    });
  });

  it('takes F with a code as rejected, and F without one as rejected for an unsaid reason', () => {
    expect(nopwdAttemptOutcome({ error: rejected('REFUND_AMOUNT_NOT_VALID') })).toEqual({
      kind: 'reject',
      code: 'REFUND_AMOUNT_NOT_VALID',
    });
    expect(nopwdAttemptOutcome({ error: rejected(undefined) })).toEqual({
      kind: 'reject',
      code: UNSPECIFIED_REJECTION,
    });
  });

  it('retries an F that Alipay calls transient, under the same batch_no: Alipay answered, nothing in doubt', () => {
    expect(nopwdAttemptOutcome({ error: rejected('SESSION_TIMEOUT', true) })).toMatchObject({
      kind: 'retry',
      code: 'SESSION_TIMEOUT',
      reached: false,
    });
  });

  it.each(['TIMEOUT', 'UNREACHABLE', 'BAD_REPLY'] as const)(
    'retries after %s, which may have reached Alipay: the outcome is unknown',
    (code) => {
      expect(nopwdAttemptOutcome({ error: failed(code) })).toMatchObject({
        kind: 'retry',
        code,
        reached: true,
      });
    },
  );

  it('knows that a request that could not be signed, or a refused connection, never reached Alipay', () => {
    expect(nopwdAttemptOutcome({ error: failed('INVALID_REQUEST') })).toMatchObject({ reached: false });
    const refused = new GatewayError(
      'UNREACHABLE',
      `${SERVICE}: the gateway could not be reached`,
      { service: SERVICE, retryable: true },
      { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) },
    );
    expect(nopwdAttemptOutcome({ error: refused })).toMatchObject({ kind: 'retry', reached: false });
    const reset = new GatewayError(
      'UNREACHABLE',
      `${SERVICE}: the gateway could not be reached`,
      { service: SERVICE, retryable: true },
      { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) },
    );
    expect(nopwdAttemptOutcome({ error: reset })).toMatchObject({ kind: 'retry', reached: true });
  });

  it('stops when the call was aborted for shutdown', () => {
    expect(nopwdAttemptOutcome({ error: failed('ABORTED') })).toEqual({ kind: 'stop' });
  });

  it('throws anything that is not a gateway error again', () => {
    const defect = new TypeError('boom');
    expect(() => nopwdAttemptOutcome({ error: defect })).toThrow(defect);
  });
});

describe('the command an outcome records', () => {
  it('accepts with the reply, rejects with the code, at the given instant', () => {
    expect(nopwdCommand(BATCH, { kind: 'accept', reply: 'DUPLICATE_BATCH_NO' }, AT)).toEqual({
      type: 'AcceptRefundBatch',
      batchNo: BATCH,
      reply: 'DUPLICATE_BATCH_NO',
      acceptedAt: '2024-05-02T02:00:01.000Z',
    });
    expect(nopwdCommand(BATCH, { kind: 'reject', code: 'TRADE_STATUS_ERROR' }, AT)).toEqual({
      type: 'RejectRefundBatch',
      batchNo: BATCH,
      code: 'TRADE_STATUS_ERROR',
      rejectedAt: '2024-05-02T02:00:01.000Z',
    });
  });

  it('marks a rejection that follows an unanswered call, which then releases nothing', () => {
    expect(nopwdCommand(BATCH, { kind: 'reject', code: 'BATCH_NO_DATE_ERROR' }, AT, true)).toEqual({
      type: 'RejectRefundBatch',
      batchNo: BATCH,
      code: 'BATCH_NO_DATE_ERROR',
      rejectedAt: '2024-05-02T02:00:01.000Z',
      afterUnansweredCall: true,
    });
  });

  it('records nothing while nothing is known', () => {
    expect(
      nopwdCommand(BATCH, { kind: 'retry', code: 'TIMEOUT', message: 'no reply', reached: true }, AT),
    ).toBeUndefined();
    expect(nopwdCommand(BATCH, { kind: 'stop' }, AT)).toBeUndefined();
  });
});
