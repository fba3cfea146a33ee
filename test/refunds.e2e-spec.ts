import {
  formatBeijingCompactDate,
  formatBeijingTime,
  signParams,
  type TextParam,
} from '@ledger/alipay-protocol';
import { RequestRefundBatchCommand } from '@ledger/commands';
import { DEMO_ALIPAY } from '@ledger/platform';
import { ProjectionsService } from '@ledger/projections';
import { newTradeNo } from '@ledger/testing';
import { RefundResender } from '@ledger/processes';
import { newOutTradeNo, placeOrder, startLedger, type RunningLedger } from './alipay-notify.fixture';
import { paidOrder, postRefunds, PUBLIC_BASE_URL, streamTypes } from './refunds.fixture';

jest.setTimeout(120_000);

const NOPWD = 'refund_fastpay_by_platform_nopwd';

interface BatchBody {
  batchNo: string;
  mode: string;
  state: string;
  created: boolean;
  batchNum: number;
  totalAmount: string;
  submittedAt: string;
  items: { outTradeNo: string; tradeNo: string; amount: string; reason: string }[];
  refundUrl?: string;
  reply?: string;
  error?: string;
  message?: string;
}

/** The parameters of a URL's query, decoded, in their order. */
const paramsOf = (url: string): TextParam[] =>
  [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));

describe('POST /refunds', () => {
  let running: RunningLedger;
  /** Resends as if the resender's next pass came ten minutes from now: every waiting batch is due. */
  const resendLater = () => running.ledger.app.get(RefundResender).runOnce(Date.now() + 600_000);

  beforeAll(async () => {
    running = await startLedger('refunds', { PUBLIC_BASE_URL });
  });
  afterAll(async () => {
    await running?.close();
  });
  afterEach(() => {
    running.gateway.reset();
  });

  const submit = async (body: unknown, headers?: Record<string, string>) => {
    const response = await postRefunds(running, body, headers);
    return { status: response.status, body: response.body as unknown as BatchBody & { message: string } };
  };
  const nopwdCalls = (batchNo: string) => running.gateway.requestsFor(NOPWD, batchNo);
  const refundRequests = (outTradeNo: string) =>
    streamTypes(running, `order-${outTradeNo}`).then((types) => types.filter((t) => t === 'RefundRequested'));

  describe('pwd', () => {
    it('records the batch and answers its signed refund_fastpay_by_platform_pwd URL', async () => {
      const [a, b] = [newOutTradeNo('PWD-A'), newOutTradeNo('PWD-B')];
      const tradeA = await paidOrder(running, a, 1_000);
      const tradeB = await paidOrder(running, b, 500);

      const { status, body } = await submit({
        mode: 'pwd',
        items: [
          { outTradeNo: a, amount: '2.50', reason: '协商退款' },
          { tradeNo: tradeB, amount: '5.00', reason: 'damaged in transit' },
        ],
      });
      expect(status).toBe(201);
      expect(body).toMatchObject({
        mode: 'pwd',
        state: 'submitted',
        created: true,
        batchNum: 2,
        totalAmount: '7.50',
        items: [
          { outTradeNo: a, tradeNo: tradeA, amount: '2.50', reason: '协商退款' },
          { outTradeNo: b, tradeNo: tradeB, amount: '5.00', reason: 'damaged in transit' },
        ],
      });
      // batch_no = the Beijing date of the instant that is also refund_date, then the serial
      // (docs/alipay-protocol.md, "batch_no").
      const submittedAt = new Date(body.submittedAt);
      expect(body.batchNo).toMatch(new RegExp(`^${formatBeijingCompactDate(submittedAt)}[0-9]{8,24}$`));

      const url = new URL(body.refundUrl!);
      expect(`${url.origin}${url.pathname}`).toBe(running.gateway.url);
      const params = Object.fromEntries(url.searchParams);
      expect(params).toEqual({
        service: 'refund_fastpay_by_platform_pwd',
        partner: DEMO_ALIPAY.partner,
        _input_charset: 'utf-8',
        notify_url: `${PUBLIC_BASE_URL}/alipay/refund-notify`,
        batch_no: body.batchNo,
        refund_date: formatBeijingTime(submittedAt),
        batch_num: '2',
        detail_data: `${tradeA}^2.50^协商退款#${tradeB}^5.00^damaged in transit`,
        seller_user_id: DEMO_ALIPAY.partner,
        sign_type: 'MD5',
        sign: expect.stringMatching(/^[0-9a-f]{32}$/),
      });
      // Alipay recomputes the MD5 over every parameter but sign and sign_type, with the demo key
      // (docs/alipay-protocol.md, "MD5").
      const unsigned = paramsOf(body.refundUrl!).filter(
        ({ name }) => name !== 'sign' && name !== 'sign_type',
      );
      const resigned = signParams(unsigned, 'utf-8', { signType: 'MD5', md5Key: DEMO_ALIPAY.md5Key });
      expect(resigned.ok && resigned.value.sign).toBe(params.sign);

      // Submitted and reserved before anything is sent; a pwd batch is never sent by the ledger.
      expect(await streamTypes(running, `refund-batch-${body.batchNo}`)).toEqual(['RefundBatchSubmitted']);
      expect(await refundRequests(a)).toHaveLength(1);
      expect(await refundRequests(b)).toHaveLength(1);
      expect(running.gateway.requestsFor(NOPWD)).toHaveLength(0);
    });
  });

  describe('nopwd', () => {
    it('sends the batch and records T as accepted', async () => {
      const order = newOutTradeNo('NOPWD-T');
      const tradeNo = await paidOrder(running, order, 1_000);
      const { status, body } = await submit({
        mode: 'nopwd',
        items: [{ outTradeNo: order, amount: '10.00', reason: 'returned' }],
      });
      expect(status).toBe(201);
      expect(body).toMatchObject({ state: 'accepted', reply: 'T', created: true, totalAmount: '10.00' });

      const [call] = nopwdCalls(body.batchNo);
      expect(nopwdCalls(body.batchNo)).toHaveLength(1);
      expect(call.signature).toBe('valid');
      expect(call.params).toMatchObject({
        batch_no: body.batchNo,
        batch_num: '1',
        detail_data: `${tradeNo}^10.00^returned`,
        refund_date: formatBeijingTime(new Date(body.submittedAt)),
        notify_url: `${PUBLIC_BASE_URL}/alipay/refund-notify`,
        return_type: 'xml',
      });
      expect(await streamTypes(running, `refund-batch-${body.batchNo}`)).toEqual([
        'RefundBatchSubmitted',
        'RefundBatchAccepted',
      ]);
    });

    it('records P as accepted, its result pending', async () => {
      const order = newOutTradeNo('NOPWD-P');
      await paidOrder(running, order, 1_000);
      running.gateway.scriptNext(NOPWD, 'P');
      const { status, body } = await submit({
        mode: 'nopwd',
        items: [{ outTradeNo: order, amount: '1.00', reason: 'late' }],
      });
      expect(status).toBe(201);
      expect(body).toMatchObject({ state: 'accepted', reply: 'P' });
    });

    it('records F with its code as rejected and releases the reservation: the amount is refundable again', async () => {
      const order = newOutTradeNo('NOPWD-F');
      await paidOrder(running, order, 1_000);
      running.gateway.scriptNext(NOPWD, { error: 'REFUND_AMOUNT_NOT_VALID' });
      const rejected = await submit({
        mode: 'nopwd',
        items: [{ outTradeNo: order, amount: '10.00', reason: 'all of it' }],
      });
      expect(rejected.status).toBe(201);
      expect(rejected.body).toMatchObject({ state: 'rejected', error: 'REFUND_AMOUNT_NOT_VALID' });
      expect(rejected.body).not.toHaveProperty('reply');
      expect(nopwdCalls(rejected.body.batchNo)).toHaveLength(1);
      expect(await streamTypes(running, `refund-batch-${rejected.body.batchNo}`)).toEqual([
        'RefundBatchSubmitted',
        'RefundBatchRejected',
      ]);
      expect(await streamTypes(running, `order-${order}`)).toEqual([
        'OrderPlaced',
        'PaymentSucceeded',
        'RefundRequested',
        'RefundFailed',
      ]);

      const again = await submit({
        mode: 'nopwd',
        items: [{ outTradeNo: order, amount: '10.00', reason: 'all of it' }],
      });
      expect(again.status).toBe(201);
      expect(again.body).toMatchObject({ state: 'accepted', reply: 'T' });
      expect(again.body.batchNo).not.toBe(rejected.body.batchNo);
    });

    it('retries a timed-out call with the same batch_no, and DUPLICATE_BATCH_NO then means accepted', async () => {
      const order = newOutTradeNo('NOPWD-TIMEOUT');
      await paidOrder(running, order, 1_000);
      // The first call gets through, but its answer comes after the ledger gave up on it (10 s).
      running.gateway.scriptNext(NOPWD, { delayMs: 10_500, then: 'T' }, { error: 'DUPLICATE_BATCH_NO' });
      const { status, body } = await submit({
        mode: 'nopwd',
        items: [{ outTradeNo: order, amount: '3.00', reason: 'late' }],
      });
      expect(status).toBe(201);
      expect(body).toMatchObject({ state: 'accepted', reply: 'DUPLICATE_BATCH_NO' });

      const calls = nopwdCalls(body.batchNo);
      expect(calls).toHaveLength(2);
      const [first, second] = calls.map(({ params }) => params);
      expect(second).toEqual(first);
      expect(first.batch_no).toBe(body.batchNo);
      expect(await streamTypes(running, `refund-batch-${body.batchNo}`)).toEqual([
        'RefundBatchSubmitted',
        'RefundBatchAccepted',
      ]);
    });

    it('answers 202 outcome_unknown when no call is answered, and the resender gets the batch accepted', async () => {
      const order = newOutTradeNo('NOPWD-DOWN');
      await paidOrder(running, order, 1_000);
      running.gateway.scriptNext(NOPWD, 'down', 'down', 'down');
      const { status, body } = await submit({
        mode: 'nopwd',
        items: [{ outTradeNo: order, amount: '4.00', reason: 'gateway down' }],
      });
      expect(status).toBe(202);
      // Dropped connections may have been read by Alipay: the outcome is unknown, and says so.
      expect(body).toMatchObject({ state: 'outcome_unknown', created: true });
      expect(body.message).toMatch(/may have reached Alipay/);
      expect(nopwdCalls(body.batchNo)).toHaveLength(3);
      // The reservation holds while the batch waits.
      expect(await refundRequests(order)).toHaveLength(1);

      expect(await resendLater()).toBe(1);
      expect(await streamTypes(running, `refund-batch-${body.batchNo}`)).toEqual([
        'RefundBatchSubmitted',
        'RefundBatchOutcomeUnknown',
        'RefundBatchAccepted',
      ]);
      const calls = nopwdCalls(body.batchNo);
      expect(calls).toHaveLength(4);
      expect(new Set(calls.map(({ params }) => params.sign)).size).toBe(1);
      expect(calls[3].answer).toBe('T');
    });

    it('loses nothing when the ledger stops between the submission and the call: the resender sends it', async () => {
      const order = newOutTradeNo('NOPWD-CRASH');
      const tradeNo = await paidOrder(running, order, 1_000);
      // What a crash right after the commit leaves: the batch on record, nothing sent.
      const { batch, decision } = await running.commands.execute(
        new RequestRefundBatchCommand({
          mode: 'nopwd',
          items: [{ outTradeNo: order, amount: 600, reason: 'crash' }],
        }),
      );
      await running.ledger.app
        .get(ProjectionsService)
        .waitForProjections({ transactionId: decision!.transactionId, position: decision!.position }, 5_000);

      // A batch this young may still be in the hands of its POST: the resender leaves it alone.
      expect(await running.ledger.app.get(RefundResender).runOnce()).toBe(0);
      expect(await resendLater()).toBe(1);
      expect(await streamTypes(running, `refund-batch-${batch.batchNo}`)).toEqual([
        'RefundBatchSubmitted',
        'RefundBatchAccepted',
      ]);
      const [call] = nopwdCalls(batch.batchNo);
      expect(nopwdCalls(batch.batchNo)).toHaveLength(1);
      expect(call.params.detail_data).toBe(`${tradeNo}^6.00^crash`);
    });

    it('lets one of six batches racing for the last refundable yuan through', async () => {
      const order = newOutTradeNo('RACE');
      await paidOrder(running, order, 1_000);
      const first = await submit({
        mode: 'nopwd',
        items: [{ outTradeNo: order, amount: '9.00', reason: 'most' }],
      });
      expect(first.status).toBe(201);

      const racers = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          submit({ mode: 'nopwd', items: [{ outTradeNo: order, amount: '1.00', reason: `last yuan ${i}` }] }),
        ),
      );
      expect(racers.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409, 409]);
      for (const lost of racers.filter((r) => r.status === 409)) {
        expect(lost.body.message).toMatch(/^items\[0\]: refund of 1\.00 exceeds the 0\.00 still refundable/);
      }
      const won = racers.find((r) => r.status === 201)!;
      expect(won.body.state).toBe('accepted');
      expect(await refundRequests(order)).toHaveLength(2);
      expect(running.gateway.requestsFor(NOPWD)).toHaveLength(2);
    });
  });

  describe('refusals by the ledger', () => {
    it('refuses more than is refundable, naming the record, and records nothing', async () => {
      const [a, b] = [newOutTradeNo('OVER-A'), newOutTradeNo('OVER-B')];
      await paidOrder(running, a, 1_000);
      await paidOrder(running, b, 1_000);
      const { status, body } = await submit({
        mode: 'nopwd',
        items: [
          { outTradeNo: a, amount: '10.00', reason: 'all' },
          { outTradeNo: b, amount: '10.01', reason: 'more than paid' },
        ],
      });
      expect(status).toBe(409);
      expect(body).toEqual({
        statusCode: 409,
        error: 'Conflict',
        message: `items[1]: refund of 10.01 exceeds the 10.00 still refundable on order ${b}`,
      });
      expect(await refundRequests(a)).toHaveLength(0);
      expect(await refundRequests(b)).toHaveLength(0);
      expect(running.gateway.requestsFor(NOPWD)).toHaveLength(0);
    });

    it('refuses an order not paid, an escrow trade, an unknown order and an unknown trade', async () => {
      const unpaid = newOutTradeNo('UNPAID');
      await placeOrder(running.commands, unpaid, { totalFee: 1_000 });
      const escrow = newOutTradeNo('ESCROW');
      await paidOrder(running, escrow, 1_000, 'trade_create_by_buyer');
      const paid = newOutTradeNo('PAID');
      await paidOrder(running, paid, 1_000);
      const item = (outTradeNo: string) => ({ outTradeNo, amount: '1.00', reason: 'r' });

      const notPaid = await submit({ mode: 'pwd', items: [item(paid), item(unpaid)] });
      expect(notPaid.status).toBe(409);
      expect(notPaid.body.message).toBe(`items[1]: order ${unpaid} has no recognised payment`);

      const escrowed = await submit({ mode: 'pwd', items: [item(escrow)] });
      expect(escrowed.status).toBe(409);
      expect(escrowed.body.message).toMatch(
        /^items\[0\]: order .* escrow trades are refunded through the buyer/,
      );

      // The first record at fault is named, whichever order loads first.
      const both = await submit({ mode: 'pwd', items: [item(paid), item(unpaid), item('NEVER-PLACED-1')] });
      expect(both.status).toBe(409);
      expect(both.body.message).toMatch(/^items\[1\]: /);
      const unknownOnly = await submit({ mode: 'pwd', items: [item(paid), item('NEVER-PLACED-1')] });
      expect(unknownOnly.status).toBe(404);
      expect(unknownOnly.body.message).toBe('items[1]: order NEVER-PLACED-1 was never placed');

      const unknownTrade = await submit({
        mode: 'pwd',
        items: [item(paid), { tradeNo: newTradeNo(), amount: '1.00', reason: 'r' }],
      });
      expect(unknownTrade.status).toBe(404);
      expect(unknownTrade.body.message).toMatch(/^items\[1\]: no order of this ledger has trade_no \d+$/);

      const otherTrade = await submit({
        mode: 'pwd',
        items: [{ outTradeNo: paid, tradeNo: newTradeNo(), amount: '1.00', reason: 'r' }],
      });
      expect(otherTrade.status).toBe(404);
      expect(otherTrade.body.message).toMatch(/^items\[0\]: trade \d+ is not the trade of order /);
      expect(await refundRequests(paid)).toHaveLength(0);
    });
  });

  describe('validation', () => {
    const paid = { outTradeNo: 'VALID-1' };
    beforeAll(async () => {
      await paidOrder(running, paid.outTradeNo, 1_000);
    });
    const item = (overrides: Record<string, unknown> = {}) => ({
      ...paid,
      amount: '1.00',
      reason: 'r',
      ...overrides,
    });

    it.each<[string, unknown, string]>([
      ['no mode', { items: [item()] }, 'mode: must be pwd or nopwd'],
      ['an unknown mode', { mode: 'card', items: [item()] }, 'mode: must be pwd or nopwd'],
      ['no items', { mode: 'pwd', items: [] }, 'items: a batch needs at least one record'],
      ['items not a list', { mode: 'pwd', items: 'all' }, 'items: must be an array of records'],
      ['a record that is not an object', { mode: 'pwd', items: [item(), 7] }, 'items[1]: must be an object'],
      [
        'a record without order or trade',
        { mode: 'pwd', items: [{ amount: '1.00', reason: 'r' }] },
        'items[0].outTradeNo: outTradeNo or tradeNo is required',
      ],
      [
        'a bad outTradeNo',
        { mode: 'pwd', items: [item({ outTradeNo: 'a b' })] },
        'items[0].outTradeNo: must be 1 to 64',
      ],
      [
        'an unknown field',
        { mode: 'pwd', items: [item({ refundFee: '1.00' })] },
        'items[0].refundFee: property refundFee should not exist',
      ],
      [
        'an amount without decimals',
        { mode: 'pwd', items: [item({ amount: '1' })] },
        'items[0].amount: must be yuan with two decimals',
      ],
      [
        'an amount with one decimal',
        { mode: 'pwd', items: [item({ amount: '1.5' })] },
        'items[0].amount: must be yuan with two decimals',
      ],
      [
        'a numeric amount',
        { mode: 'pwd', items: [item({ amount: 1 })] },
        'items[0].amount: must be yuan with two decimals',
      ],
      [
        'a negative amount',
        { mode: 'pwd', items: [item({ amount: '-1.00' })] },
        'items[0].amount: must be yuan',
      ],
      [
        'a zero amount',
        { mode: 'pwd', items: [item({ amount: '0.00' })] },
        'items[0].amount: "0.00" is below 0.01',
      ],
      [
        'an amount above the maximum',
        { mode: 'pwd', items: [item({ amount: '100000000.01' })] },
        'items[0].amount: "100000000.01" exceeds',
      ],
      ['an exponent', { mode: 'pwd', items: [item({ amount: '1e2' })] }, 'items[0].amount: must be yuan'],
      [
        'an empty reason',
        { mode: 'pwd', items: [item({ reason: '  ' })] },
        'items[0].reason: must not be empty',
      ],
      [
        'a reason with ^',
        { mode: 'pwd', items: [item({ reason: 'a^b' })] },
        'items[0].reason: must not contain ^ | $ or #',
      ],
      [
        'a reason with |',
        { mode: 'pwd', items: [item({ reason: 'a|b' })] },
        'items[0].reason: must not contain ^ | $ or #',
      ],
      [
        'a reason with $',
        { mode: 'pwd', items: [item({ reason: 'a$b' })] },
        'items[0].reason: must not contain ^ | $ or #',
      ],
      [
        'a reason with #',
        { mode: 'pwd', items: [item({ reason: 'a#b' })] },
        'items[0].reason: must not contain ^ | $ or #',
      ],
      [
        'a reason of 256 bytes',
        { mode: 'pwd', items: [item({ reason: '退'.repeat(85) + 'x' })] },
        'items[0].reason: must be under 256 bytes',
      ],
      [
        'a reason with a control character',
        { mode: 'pwd', items: [item({ reason: 'a\u0000b' })] },
        'items[0].reason: must not contain control characters',
      ],
    ])('refuses %s with 400 naming the field', async (_name, body, message) => {
      const response = await submit(body);
      expect(response.status).toBe(400);
      expect(response.body.message.slice(0, message.length)).toBe(message);
    });

    it('refuses more than 1000 records', async () => {
      const items = Array.from({ length: 1001 }, (_, i) => item({ outTradeNo: `MANY-${i}` }));
      const response = await submit({ mode: 'nopwd', items });
      expect(response.status).toBe(400);
      expect(response.body.message).toBe('items: a batch holds at most 1000 records');
    });

    it('refuses the same trade twice in a batch, named by its order or by its trade_no', async () => {
      const order = newOutTradeNo('TWICE');
      const tradeNo = await paidOrder(running, order, 1_000);
      const twice = await submit({
        mode: 'pwd',
        items: [item({ outTradeNo: order }), item({ outTradeNo: order })],
      });
      expect(twice.status).toBe(400);
      expect(twice.body.message).toMatch(/^items\[1\]: order .* is already in the batch \(items\[0\]\)/);
      const mixed = await submit({
        mode: 'pwd',
        items: [item({ outTradeNo: order }), { tradeNo, amount: '1.00', reason: 'r' }],
      });
      expect(mixed.status).toBe(400);
      expect(mixed.body.message).toMatch(/^items\[1\]: order .* is already in the batch/);
      expect(await refundRequests(order)).toHaveLength(0);
    });

    it('needs the admin token', async () => {
      const body = { mode: 'pwd', items: [item()] };
      const anonymous = await postRefunds(running, body, { authorization: '' });
      expect(anonymous.status).toBe(401);
      const wrong = await postRefunds(running, body, { authorization: 'Bearer not-the-admin-token-at-all' });
      expect(wrong.status).toBe(401);
      expect(await refundRequests(paid.outTradeNo)).toHaveLength(0);
    });
  });

  describe('Idempotency-Key', () => {
    it('answers the batch a key made when the request comes again, without a second batch or call', async () => {
      const order = newOutTradeNo('IDEM');
      await paidOrder(running, order, 1_000);
      const body = { mode: 'nopwd', items: [{ outTradeNo: order, amount: '2.00', reason: 'retry me' }] };
      const key = { 'idempotency-key': `key-${order}` };
      const first = await submit(body, key);
      expect(first.status).toBe(201);
      const again = await submit(body, key);
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ ...first.body, created: false });
      expect(await refundRequests(order)).toHaveLength(1);
      expect(nopwdCalls(first.body.batchNo)).toHaveLength(1);

      const reused = await submit({ ...body, items: [{ ...body.items[0], amount: '3.00' }] }, key);
      expect(reused.status).toBe(422);
      expect(reused.body.message).toMatch(/was sent with another request/);
    });

    it('frees a key whose request was refused, for the corrected request', async () => {
      const order = newOutTradeNo('IDEM-FIX');
      await paidOrder(running, order, 1_000);
      const key = { 'idempotency-key': `key-${order}` };
      const tooMuch = await submit(
        { mode: 'pwd', items: [{ outTradeNo: order, amount: '20.00', reason: 'r' }] },
        key,
      );
      expect(tooMuch.status).toBe(409);
      const fixed = await submit(
        { mode: 'pwd', items: [{ outTradeNo: order, amount: '10.00', reason: 'r' }] },
        key,
      );
      expect(fixed.status).toBe(201);
    });

    it('resends a nopwd batch still waiting when its request comes again', async () => {
      const order = newOutTradeNo('IDEM-WAIT');
      await paidOrder(running, order, 1_000);
      const body = { mode: 'nopwd', items: [{ outTradeNo: order, amount: '2.00', reason: 'r' }] };
      const key = { 'idempotency-key': `key-${order}` };
      running.gateway.scriptNext(NOPWD, 'down', 'down', 'down');
      const waiting = await submit(body, key);
      expect(waiting.status).toBe(202);
      const again = await submit(body, key);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ batchNo: waiting.body.batchNo, state: 'accepted', created: false });
      expect(nopwdCalls(waiting.body.batchNo)).toHaveLength(4);
    });
  });
});
