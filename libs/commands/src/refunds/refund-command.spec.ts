import type { TextParam } from '@ledger/alipay-protocol';
import { readRefundCommand } from './refund-command';

function params(values: Record<string, string | undefined>): TextParam[] {
  return Object.entries({
    notify_time: '2024-05-02 10:00:05',
    notify_type: 'batch_refund_notify',
    notify_id: 'f0e1d2c3b4a5968778695a4b3c2d1e0fmva',
    batch_no: '20240501001',
    success_num: '1',
    result_details: '2024050122001400000000000001^12.30^SUCCESS',
    sign: 'ignored',
    sign_type: 'MD5',
    ...values,
  })
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => ({ name, value }));
}

describe('readRefundCommand', () => {
  it('reads a batch result into CompleteRefundBatch: fen, the notify time as a UTC instant', () => {
    expect(readRefundCommand(params({}), 'refund_notify')).toMatchObject({
      ok: true,
      command: {
        type: 'CompleteRefundBatch',
        batchNo: '20240501001',
        successNum: 1,
        results: [{ tradeNo: '2024050122001400000000000001', amount: 1230, code: 'SUCCESS' }],
        notifyId: 'f0e1d2c3b4a5968778695a4b3c2d1e0fmva',
        notifyTime: '2024-05-02T02:00:05.000Z',
      },
    });
  });

  it('keeps the fee, royalty, sub-trade and 充退 parts of every record', () => {
    const details = [
      '2024050122001400000000000001^80.00^SUCCESS$seller@example.com^2088101003147483^0.01^SUCCESS',
      '2024050122001400000000000002^30.00^SUCCESS^true^S|out@example.com^2088701892019087^in@example.com^2088701892019088^5.00^SUCCESS$$20.00^10.00^SUCCESS',
      '2024050122001400000000000003^160.00^SELLER_BALANCE_NOT_ENOUGH',
    ].join('#');
    const reading = readRefundCommand(params({ result_details: details, success_num: '2' }), 'refund_notify');
    if (!reading.ok) throw new Error(reading.message);
    expect(reading.command.results).toEqual([
      {
        tradeNo: '2024050122001400000000000001',
        amount: 8000,
        code: 'SUCCESS',
        fee: { account: 'seller@example.com', userId: '2088101003147483', amount: 1, code: 'SUCCESS' },
      },
      {
        tradeNo: '2024050122001400000000000002',
        amount: 3000,
        code: 'SUCCESS',
        dback: { isDback: true, result: 'S' },
        royalties: [
          {
            outAccount: 'out@example.com',
            outUserId: '2088701892019087',
            inAccount: 'in@example.com',
            inUserId: '2088701892019088',
            amount: 500,
            code: 'SUCCESS',
          },
        ],
        subTrade: { amount: 2000, refundableAmount: 1000, code: 'SUCCESS' },
      },
      { tradeNo: '2024050122001400000000000003', amount: 16000, code: 'SELLER_BALANCE_NOT_ENOUGH' },
    ]);
  });

  it('refuses a payment notification by name, pointing at the payment endpoint', () => {
    expect(readRefundCommand(params({ notify_type: 'trade_status_sync' }), 'refund_notify')).toEqual({
      ok: false,
      reason: 'unexpected_notify_type',
      message: expect.stringMatching(
        /^notify_type "trade_status_sync" is not handled at the refund_notify channel.*\/alipay\/notify/,
      ) as unknown,
    });
  });

  it('names every malformed part: batch_no, success_num, a record, a record of another batch', () => {
    const reading = readRefundCommand(
      params({ batch_no: '2024050100', success_num: 'one', result_details: '2024^abc^SUCCESS' }),
      'refund_notify',
    );
    expect(reading).toMatchObject({ ok: false, reason: 'malformed' });
    const fields = reading.ok ? [] : (reading.errors ?? []).map((error) => error.field);
    expect(fields).toEqual(expect.arrayContaining(['success_num', 'result_details[0].amount']));

    const badBatch = readRefundCommand(params({ batch_no: '2024133100001' }), 'refund_notify');
    expect(badBatch).toMatchObject({ ok: false, reason: 'malformed', errors: [{ field: 'batch_no' }] });

    const otherBatch = readRefundCommand(
      params({ result_details: '20240501999^2024050122001400000000000001^12.30^SUCCESS' }),
      'refund_notify',
    );
    expect(otherBatch).toMatchObject({
      ok: false,
      reason: 'malformed',
      errors: [{ field: 'result_details[0].batchNo' }],
    });
    const sameBatch = readRefundCommand(
      params({ result_details: '20240501001^2024050122001400000000000001^12.30^SUCCESS' }),
      'refund_notify',
    );
    expect(sameBatch).toMatchObject({ ok: true, command: { results: [{ amount: 1230 }] } });
    expect(sameBatch.ok && 'batchNo' in sameBatch.command.results[0]).toBe(false);
  });

  it('requires batch_no, success_num and result_details', () => {
    const reading = readRefundCommand(
      params({ batch_no: undefined, success_num: undefined, result_details: undefined }),
      'refund_notify',
    );
    const fields = reading.ok ? [] : (reading.errors ?? []).map((error) => error.field);
    expect(fields).toEqual(['batch_no', 'success_num', 'result_details']);
  });
});
