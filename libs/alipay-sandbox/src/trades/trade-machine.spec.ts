import { MD5_PARTNER } from '../sandbox.fixture';
import type { PaymentService, Trade } from './trade';
import { applyTradeAction, availableActions, refundRecord, type TradeAction } from './trade-machine';

const t0 = new Date('2024-03-05T02:00:00Z');
const t1 = new Date('2024-03-05T02:05:00Z');

function trade(service: PaymentService = 'create_direct_pay_by_user', totalFee = 1000): Trade {
  return {
    partner: MD5_PARTNER,
    tradeNo: '2024030521001004000000000001',
    terms: {
      service,
      outTradeNo: 'order-1',
      subject: 'tea',
      totalFee,
      price: totalFee,
      quantity: 1,
      sellerId: MD5_PARTNER,
    },
    channels: {},
    charset: 'utf-8',
    signType: 'MD5',
    tradeStatus: 'WAIT_BUYER_PAY',
    refundedFee: 0,
    gmtCreate: t0,
  };
}

/** Applies actions in turn; fails the test on a refusal. */
function run(start: Trade, ...actions: TradeAction[]): Trade {
  return actions.reduce((current, action) => {
    const outcome = applyTradeAction(current, action, t1);
    if (!outcome.ok) throw new Error(`${action}: ${outcome.code} ${outcome.message}`);
    return outcome.trade;
  }, start);
}

describe('applyTradeAction', () => {
  it('pays an instant trade: TRADE_SUCCESS with the buyer and the payment time', () => {
    expect(run(trade(), 'pay-instant')).toMatchObject({
      tradeStatus: 'TRADE_SUCCESS',
      paymentType: 'instant',
      gmtPayment: t1,
      buyerId: expect.stringMatching(/^2088\d{12}$/),
    });
  });

  it('finishes a dual trade paid instantly at once (how a merchant tells instant from escrow)', () => {
    expect(run(trade('trade_create_by_buyer'), 'pay-instant')).toMatchObject({
      tradeStatus: 'TRADE_FINISHED',
      paymentType: 'instant',
      gmtClose: t1,
    });
  });

  it('runs escrow: paid, shipped, confirmed', () => {
    const paid = run(trade('trade_create_by_buyer'), 'pay-escrow');
    expect(paid).toMatchObject({ tradeStatus: 'WAIT_SELLER_SEND_GOODS', paymentType: 'escrow' });
    const shipped = run(paid, 'ship');
    expect(shipped).toMatchObject({ tradeStatus: 'WAIT_BUYER_CONFIRM_GOODS', gmtSendGoods: t1 });
    expect(run(shipped, 'confirm-receipt')).toMatchObject({ tradeStatus: 'TRADE_FINISHED', gmtClose: t1 });
  });

  it('refuses to pay twice, and escrow for an instant-only service', () => {
    expect(applyTradeAction(run(trade(), 'pay-instant'), 'pay-instant', t1)).toMatchObject({
      ok: false,
      code: 'TRADE_NOT_ALLOWED_PAY',
    });
    expect(applyTradeAction(trade(), 'pay-escrow', t1)).toMatchObject({
      ok: false,
      code: 'TRADE_STATUS_NOT_AVAILD',
    });
  });

  it('closes only an unpaid trade', () => {
    expect(run(trade(), 'close')).toMatchObject({ tradeStatus: 'TRADE_CLOSED', gmtClose: t1 });
    expect(applyTradeAction(run(trade(), 'pay-instant'), 'close', t1)).toMatchObject({ ok: false });
  });

  it('ends the refund window of an instant trade with TRADE_FINISHED', () => {
    expect(run(trade(), 'pay-instant', 'finish')).toMatchObject({ tradeStatus: 'TRADE_FINISHED' });
  });

  it('refunds an escrow trade not yet shipped as soon as the seller agrees', () => {
    const refunded = run(trade('trade_create_by_buyer'), 'pay-escrow', 'request-refund', 'agree-refund');
    expect(refunded).toMatchObject({
      tradeStatus: 'TRADE_CLOSED',
      refundStatus: 'REFUND_SUCCESS',
      refundedFee: 1000,
      gmtRefund: t1,
    });
  });

  it('takes the goods back before refunding a shipped escrow trade', () => {
    const shipped = run(trade('trade_create_by_buyer'), 'pay-escrow', 'ship');
    const agreed = run(shipped, 'request-refund', 'agree-refund');
    expect(agreed).toMatchObject({
      tradeStatus: 'WAIT_BUYER_CONFIRM_GOODS',
      refundStatus: 'WAIT_BUYER_RETURN_GOODS',
    });
    expect(applyTradeAction(agreed, 'confirm-receipt', t1)).toMatchObject({ ok: false });
    const returned = run(agreed, 'return-goods');
    expect(returned.refundStatus).toBe('WAIT_SELLER_CONFIRM_GOODS');
    expect(run(returned, 'confirm-return')).toMatchObject({
      tradeStatus: 'TRADE_CLOSED',
      refundStatus: 'REFUND_SUCCESS',
    });
  });

  it('lets a refused buyer apply again, and closes the refund when the buyer confirms receipt', () => {
    const refused = run(
      trade('trade_create_by_buyer'),
      'pay-escrow',
      'ship',
      'request-refund',
      'refuse-refund',
    );
    expect(refused.refundStatus).toBe('SELLER_REFUSE_BUYER');
    expect(run(refused, 'request-refund').refundStatus).toBe('WAIT_SELLER_AGREE');
    expect(run(refused, 'confirm-receipt')).toMatchObject({
      tradeStatus: 'TRADE_FINISHED',
      refundStatus: 'REFUND_CLOSED',
    });
  });

  it('sends instant trades to the batch refund rather than the buyer flow', () => {
    expect(applyTradeAction(run(trade(), 'pay-instant'), 'request-refund', t1)).toMatchObject({
      ok: false,
      code: 'TRADE_STATUS_NOT_AVAILD',
    });
  });

  it('lists what each state allows', () => {
    expect(availableActions(trade('trade_create_by_buyer'), t1)).toEqual([
      'pay-instant',
      'pay-escrow',
      'close',
    ]);
    expect(availableActions(run(trade(), 'pay-instant'), t1)).toEqual(['finish']);
    expect(availableActions(run(trade('trade_create_by_buyer'), 'pay-escrow', 'ship'), t1)).toEqual([
      'confirm-receipt',
      'request-refund',
    ]);
  });
});

describe('refundRecord', () => {
  const paid = run(trade(), 'pay-instant');

  it('refunds partially, keeping TRADE_SUCCESS, then closes the trade with the last fen', () => {
    const first = refundRecord(paid, MD5_PARTNER, 300, t1);
    expect(first).toMatchObject({
      code: 'SUCCESS',
      trade: { tradeStatus: 'TRADE_SUCCESS', refundStatus: 'REFUND_SUCCESS', refundedFee: 300 },
    });
    const rest = refundRecord(first.trade, MD5_PARTNER, 700, t1);
    expect(rest).toMatchObject({
      code: 'SUCCESS',
      trade: { tradeStatus: 'TRADE_CLOSED', refundedFee: 1000, gmtClose: t1 },
    });
    expect(refundRecord(rest.trade, MD5_PARTNER, 1, t1)).toEqual({ code: 'TRADE_HAS_CLOSED' });
  });

  it('refuses more than what remains refundable', () => {
    const first = refundRecord(paid, MD5_PARTNER, 600, t1);
    expect(refundRecord(first.trade, MD5_PARTNER, 401, t1)).toEqual({ code: 'REASON_TRADE_REFUND_FEE_ERR' });
  });

  it.each([
    ['an unknown trade', undefined, MD5_PARTNER, 'TRADE_NOT_EXIST'],
    ["another partner's trade", paid, '2088000000000009', 'NOT_THIS_PARTNERS_TRADE'],
    ['an unpaid trade', trade(), MD5_PARTNER, 'TRADE_STATUS_ERROR'],
    ['a finished trade', run(trade(), 'pay-instant', 'finish'), MD5_PARTNER, 'TRADE_STATUS_ERROR'],
    [
      'an escrow trade',
      run(trade('trade_create_by_buyer'), 'pay-escrow'),
      MD5_PARTNER,
      'TRADE_PRODUCT_TYPE_NOT_ALLOW_REFUND',
    ],
  ])('refuses %s', (_what, target, partner, code) => {
    expect(refundRecord(target, partner, 100, t1)).toEqual({ code });
  });
});
