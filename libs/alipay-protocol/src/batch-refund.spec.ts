import fc from 'fast-check';
import {
  MAX_BATCH_RECORDS,
  buildDetailData,
  formatBatchNo,
  formatResultDetails,
  parseBatchNo,
  parseDetailData,
  parseResultDetails,
  refundResultOutcome,
  type RefundDetail,
  type RefundResult,
} from './batch-refund';

function codes(result: { ok: boolean; errors?: readonly { code: string }[] }): string[] {
  return result.ok ? [] : (result.errors ?? []).map((e) => e.code);
}

describe('batch_no', () => {
  const lateEvening = new Date('2024-03-09T16:30:00Z'); // 00:30 on 10 March in Beijing

  it('is the Beijing date of the refund followed by the serial', () => {
    expect(formatBatchNo(lateEvening, '0001')).toEqual({ ok: true, value: '202403100001' });
    expect(formatBatchNo(lateEvening, '1'.repeat(24))).toEqual({
      ok: true,
      value: `20240310${'1'.repeat(24)}`,
    });
  });

  it.each(['', '12', '1'.repeat(25), 'ab1', '000', '12 3'])('refuses the serial %j', (serial) => {
    expect(codes(formatBatchNo(lateEvening, serial))).toEqual(['INVALID_BATCH_NO']);
  });

  it('reads a batch_no and checks it against the refund date', () => {
    expect(parseBatchNo('202403100001')).toEqual({ ok: true, value: { date: '20240310', serial: '0001' } });
    expect(parseBatchNo('202403100001', lateEvening).ok).toBe(true);
    expect(codes(parseBatchNo('202403090001', lateEvening))).toEqual(['BATCH_DATE_MISMATCH']);
  });

  it.each([
    '123456789',
    '20241301001',
    '20230229001',
    '20240310000',
    '2024031000a1',
    `20240310${'1'.repeat(25)}`,
  ])('refuses %j', (text) => {
    expect(codes(parseBatchNo(text))).toEqual(['INVALID_BATCH_NO']);
  });
});

describe('buildDetailData', () => {
  it('writes the record of the public refund example', () => {
    expect(buildDetailData([{ tradeNo: '1', amount: 1, reason: 'test' }], { service: 'pwd' })).toEqual({
      ok: true,
      value: { detailData: '1^0.01^test', batchNum: 1 },
    });
  });

  it('joins records with # and counts them', () => {
    const result = buildDetailData(
      [
        { tradeNo: '2016082921001004270202288006', amount: 1, reason: '协商退款' },
        { tradeNo: '2016082721001004640239968415', amount: 16000, reason: 'out of stock' },
      ],
      { service: 'nopwd' },
    );
    expect(result).toEqual({
      ok: true,
      value: {
        detailData:
          '2016082921001004270202288006^0.01^协商退款#2016082721001004640239968415^160.00^out of stock',
        batchNum: 2,
      },
    });
  });

  it('writes royalty and sub-trade parts for nopwd', () => {
    const record: RefundDetail = {
      tradeNo: 'TRADE',
      amount: 10000,
      reason: '协商退款',
      royalties: [
        {
          outAccount: 'from',
          outUserId: '2088701892019087',
          inAccount: 'to',
          inUserId: '2088701892019088',
          amount: 3000,
          reason: '协商退款',
        },
      ],
      subTrade: { amount: 2000, reason: '协商退款' },
    };
    const result = buildDetailData([record], { service: 'nopwd' });
    expect(result).toEqual({
      ok: true,
      value: {
        detailData:
          'TRADE^100.00^协商退款|from^2088701892019087^to^2088701892019088^30.00^协商退款$$20.00^协商退款',
        batchNum: 1,
      },
    });
    expect(codes(buildDetailData([record], { service: 'pwd' }))).toEqual(['PART_NOT_ALLOWED']);
  });

  it('refuses an empty batch and more than 1000 records', () => {
    expect(codes(buildDetailData([], { service: 'pwd' }))).toEqual(['EMPTY_BATCH']);
    const many = Array.from({ length: MAX_BATCH_RECORDS + 1 }, (_, i) => ({
      tradeNo: `T${i}`,
      amount: 1,
      reason: 'r',
    }));
    expect(codes(buildDetailData(many, { service: 'pwd' }))).toEqual(['TOO_MANY_RECORDS']);
    expect(buildDetailData(many.slice(0, MAX_BATCH_RECORDS), { service: 'pwd' }).ok).toBe(true);
  });

  it('refuses a trade twice in one batch', () => {
    const result = buildDetailData(
      [
        { tradeNo: 'T1', amount: 1, reason: 'a' },
        { tradeNo: 'T1', amount: 2, reason: 'b' },
      ],
      { service: 'nopwd' },
    );
    expect(result).toMatchObject({
      ok: false,
      errors: [{ code: 'DUPLICATE_TRADE_IN_BATCH', field: 'detail_data[1].tradeNo' }],
    });
  });

  it.each(['a^b', 'a|b', 'a$b', 'a#b'])('refuses the reason %j', (reason) => {
    const result = buildDetailData([{ tradeNo: 'T1', amount: 1, reason }], { service: 'pwd' });
    expect(result).toMatchObject({
      ok: false,
      errors: [{ code: 'FORBIDDEN_CHARACTER', field: 'detail_data[0].reason' }],
    });
  });

  it('measures the reason in the request charset (under 256 bytes)', () => {
    const reason = '退'.repeat(86); // 258 bytes in UTF-8, 172 in GBK
    expect(codes(buildDetailData([{ tradeNo: 'T', amount: 1, reason }], { service: 'pwd' }))).toEqual([
      'TOO_LONG',
    ]);
    expect(
      buildDetailData([{ tradeNo: 'T', amount: 1, reason }], { service: 'pwd', charset: 'gbk' }).ok,
    ).toBe(true);
    expect(
      codes(buildDetailData([{ tradeNo: 'T', amount: 1, reason: 'x'.repeat(256) }], { service: 'pwd' })),
    ).toEqual(['TOO_LONG']);
  });

  it('reports every bad field of every record at once', () => {
    const result = buildDetailData(
      [
        { tradeNo: '', amount: 0, reason: '' },
        { tradeNo: 'T 2', amount: 1.5, reason: 'ok' },
        {
          tradeNo: 'T3',
          amount: 1,
          reason: 'ok',
          royalties: [
            { outAccount: '', outUserId: '', inAccount: 'x', inUserId: '123', amount: 1, reason: 'r' },
          ],
        },
      ],
      { service: 'nopwd' },
    );
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors.map((e) => `${e.code} ${e.field}`)).toEqual([
        'MISSING_FIELD detail_data[0].tradeNo',
        'AMOUNT_OUT_OF_RANGE detail_data[0].amount',
        'MISSING_FIELD detail_data[0].reason',
        'MALFORMED_FIELD detail_data[1].tradeNo',
        'AMOUNT_OUT_OF_RANGE detail_data[1].amount',
        'MISSING_FIELD detail_data[2].royalties[0].outAccount',
        'MALFORMED_FIELD detail_data[2].royalties[0].inUserId',
      ]);
    }
  });
});

describe('parseDetailData', () => {
  it('reads all four record shapes', () => {
    const text =
      'A^1.00^r#B^2.00^r|o^2088000000000001^i^2088000000000002^0.50^r#C^3.00^r$$1.00^s#D^4^r|o^^i^^1^r$$0.01^s';
    const result = parseDetailData(text);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(
        result.value.map((r) => [r.tradeNo, r.amount, r.royalties?.length ?? 0, r.subTrade?.amount]),
      ).toEqual([
        ['A', 100, 0, undefined],
        ['B', 200, 1, undefined],
        ['C', 300, 0, 100],
        ['D', 400, 1, 1],
      ]);
    }
  });

  it.each([
    ['', 'MALFORMED_DETAIL_DATA'],
    ['A^1.00', 'MALFORMED_DETAIL_DATA'],
    ['A^1.00^r^x', 'MALFORMED_DETAIL_DATA'],
    ['A^1.00^r$x', 'MALFORMED_DETAIL_DATA'],
    ['A^1.00^r$$1^s$$1^s', 'MALFORMED_DETAIL_DATA'],
    ['A^1.00^r|x^y', 'MALFORMED_DETAIL_DATA'],
    ['A^1,00^r', 'MALFORMED_AMOUNT'],
    ['A^0.00^r', 'AMOUNT_OUT_OF_RANGE'],
    ['^1.00^r', 'MISSING_FIELD'],
    ['A^1.00^r#', 'MALFORMED_DETAIL_DATA'],
  ])('refuses %j with %s', (text, code) => {
    expect(codes(parseDetailData(text))).toContain(code);
  });

  const plain = fc.stringMatching(/^[^^|$#]+$/);
  const amount = fc.integer({ min: 1, max: 10_000_000_000 });
  const userId = fc.stringMatching(/^2088[0-9]{12}$/);
  const royalty = fc.record({
    outAccount: plain,
    outUserId: userId,
    inAccount: plain,
    inUserId: userId,
    amount,
    reason: plain,
  });
  const record = fc.record(
    {
      tradeNo: fc.stringMatching(/^[0-9A-Za-z]{1,64}$/),
      amount,
      reason: plain.filter((r) => Buffer.byteLength(r) < 256),
      royalties: fc.array(royalty, { minLength: 1, maxLength: 3 }),
      subTrade: fc.record({ amount, reason: plain }),
    },
    { requiredKeys: ['tradeNo', 'amount', 'reason'] },
  );

  it('round-trips with buildDetailData (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(record, { selector: (r) => r.tradeNo, minLength: 1, maxLength: 20 }),
        (records) => {
          const built = buildDetailData(records, { service: 'nopwd' });
          if (!built.ok) return; // e.g. a reason of 256 bytes or more
          expect(parseDetailData(built.value.detailData)).toEqual({ ok: true, value: records });
        },
      ),
    );
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(fc.property(fc.string(), (text) => void parseDetailData(text)));
    fc.assert(fc.property(fc.stringMatching(/^[a-z0-9.^|$#]*$/), (text) => void parseDetailData(text)));
  });
});

describe('parseResultDetails', () => {
  it('reads the documented samples', () => {
    expect(parseResultDetails('2014040311001004370000361525^80^SUCCESS')).toEqual({
      ok: true,
      value: [{ tradeNo: '2014040311001004370000361525', amount: 8000, code: 'SUCCESS' }],
    });
    expect(parseResultDetails('2016082721001004640239968415^160.00^SELLER_BALANCE_NOT_ENOUGH')).toEqual({
      ok: true,
      value: [{ tradeNo: '2016082721001004640239968415', amount: 16000, code: 'SELLER_BALANCE_NOT_ENOUGH' }],
    });
    expect(
      parseResultDetails(
        '2010031906272929^80^SUCCESS$jax_chuanhang@alipay.com^2088101003147483^0.01^SUCCESS',
      ),
    ).toEqual({
      ok: true,
      value: [
        {
          tradeNo: '2010031906272929',
          amount: 8000,
          code: 'SUCCESS',
          fee: {
            account: 'jax_chuanhang@alipay.com',
            userId: '2088101003147483',
            amount: 1,
            code: 'SUCCESS',
          },
        },
      ],
    });
  });

  it('reads 3 to 6 ^-fields: batch_no prefix and 充退 result', () => {
    const text = [
      'T1^1.00^SUCCESS',
      'B^T2^2.00^SUCCESS',
      'T3^3.00^SUCCESS^true^S',
      'B^T4^4.00^SUCCESS^false^null',
    ].join('#');
    expect(parseResultDetails(text)).toEqual({
      ok: true,
      value: [
        { tradeNo: 'T1', amount: 100, code: 'SUCCESS' },
        { batchNo: 'B', tradeNo: 'T2', amount: 200, code: 'SUCCESS' },
        { tradeNo: 'T3', amount: 300, code: 'SUCCESS', dback: { isDback: true, result: 'S' } },
        {
          batchNo: 'B',
          tradeNo: 'T4',
          amount: 400,
          code: 'SUCCESS',
          dback: { isDback: false, result: null },
        },
      ],
    });
  });

  it('reads fee, royalty and sub-trade parts together', () => {
    const text =
      'T^10.00^SUCCESS$fee@x.com^2088000000000001^0.10^SUCCESS|o@x^2088000000000002^i@x^2088000000000003^1.00^CHECK_VALID_SUCCESS|o2^^i2^^2.00^REASON_REFUND_ROYALTY_ERROR$$5.00^0.00^SUCCESS';
    expect(parseResultDetails(text)).toEqual({
      ok: true,
      value: [
        {
          tradeNo: 'T',
          amount: 1000,
          code: 'SUCCESS',
          fee: { account: 'fee@x.com', userId: '2088000000000001', amount: 10, code: 'SUCCESS' },
          royalties: [
            {
              outAccount: 'o@x',
              outUserId: '2088000000000002',
              inAccount: 'i@x',
              inUserId: '2088000000000003',
              amount: 100,
              code: 'CHECK_VALID_SUCCESS',
            },
            {
              outAccount: 'o2',
              outUserId: '',
              inAccount: 'i2',
              inUserId: '',
              amount: 200,
              code: 'REASON_REFUND_ROYALTY_ERROR',
            },
          ],
          subTrade: { amount: 500, refundableAmount: 0, code: 'SUCCESS' },
        },
      ],
    });
  });

  it.each([
    ['', 'MALFORMED_RESULT_DETAILS'],
    ['T^1.00', 'MALFORMED_RESULT_DETAILS'],
    ['B^T^1.00^SUCCESS^true^S^x', 'MALFORMED_RESULT_DETAILS'],
    ['T^1.00^SUCCESS^maybe^S', 'MALFORMED_RESULT_DETAILS'],
    ['T^1.00^SUCCESS^true^X', 'MALFORMED_RESULT_DETAILS'],
    ['T^1.00^SUCCESS$a^b^1.00', 'MALFORMED_RESULT_DETAILS'],
    ['T^1.00^SUCCESS$a^b^1.00^S$c^d^1^S', 'MALFORMED_RESULT_DETAILS'],
    ['T^1.00^SUCCESS$$1^2', 'MALFORMED_RESULT_DETAILS'],
    ['T^1.00^SUCCESS#', 'MALFORMED_RESULT_DETAILS'],
    ['T^abc^SUCCESS', 'MALFORMED_AMOUNT'],
    ['T^1.00^', 'MISSING_FIELD'],
    ['^1.00^SUCCESS', 'MISSING_FIELD'],
  ])('refuses %j with %s', (text, code) => {
    const result = parseResultDetails(text);
    expect(codes(result)).toContain(code);
  });

  it('names the record and part at fault', () => {
    expect(parseResultDetails('T1^1.00^SUCCESS#T2^1.00^SUCCESS|a^b^c^d^x^S')).toMatchObject({
      ok: false,
      errors: [{ code: 'MALFORMED_AMOUNT', field: 'result_details[1].royalties[0].amount' }],
    });
  });

  const plain = fc.stringMatching(/^[^^|$#]*$/);
  const nonEmpty = fc.stringMatching(/^[^^|$#]+$/);
  const fen = fc.integer({ min: 0, max: 10_000_000_000 });
  const result = fc.record(
    {
      batchNo: plain,
      tradeNo: nonEmpty,
      amount: fen,
      code: nonEmpty,
      dback: fc.record({
        isDback: fc.boolean(),
        result: fc.constantFrom('S' as const, 'F' as const, 'P' as const, null),
      }),
      fee: fc.record({ account: plain, userId: plain, amount: fen, code: nonEmpty }),
      royalties: fc.array(
        fc.record({
          outAccount: plain,
          outUserId: plain,
          inAccount: plain,
          inUserId: plain,
          amount: fen,
          code: nonEmpty,
        }),
        { minLength: 1, maxLength: 3 },
      ),
      subTrade: fc.record({ amount: fen, refundableAmount: fen, code: nonEmpty }),
    },
    { requiredKeys: ['tradeNo', 'amount', 'code'] },
  );

  it('round-trips with formatResultDetails (property)', () => {
    fc.assert(
      fc.property(fc.array(result, { minLength: 1, maxLength: 10 }), (records: RefundResult[]) => {
        const text = formatResultDetails(records);
        expect(text.ok).toBe(true);
        if (text.ok) expect(parseResultDetails(text.value)).toEqual({ ok: true, value: records });
      }),
    );
  });

  it('refuses to format what it could not read back', () => {
    expect(codes(formatResultDetails([{ tradeNo: 'a#b', amount: 1, code: 'SUCCESS' }]))).toEqual([
      'FORBIDDEN_CHARACTER',
    ]);
    expect(codes(formatResultDetails([{ tradeNo: 'T', amount: -1, code: 'SUCCESS' }]))).toEqual([
      'AMOUNT_OUT_OF_RANGE',
    ]);
    expect(codes(formatResultDetails([{ tradeNo: 'T', amount: 1, code: '' }]))).toEqual(['MISSING_FIELD']);
    expect(codes(formatResultDetails([]))).toEqual(['EMPTY_BATCH']);
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(fc.property(fc.string(), (text) => void parseResultDetails(text)));
    fc.assert(fc.property(fc.stringMatching(/^[A-Z0-9.^|$#]*$/), (text) => void parseResultDetails(text)));
  });
});

describe('hostile batch texts', () => {
  it('refuses more than 1000 records before reading any, in both grammars', () => {
    const records = (n: number) => Array.from({ length: n }, (_, i) => `2014${i}^0.01^SUCCESS`).join('#');
    expect(parseResultDetails(records(MAX_BATCH_RECORDS)).ok).toBe(true);
    expect(parseResultDetails(records(MAX_BATCH_RECORDS + 1))).toEqual({
      ok: false,
      errors: [{ code: 'TOO_MANY_RECORDS', field: 'result_details', message: 'more than 1000 records' }],
    });
    expect(codes(parseDetailData('#'.repeat(1_000_000)))).toEqual(['TOO_MANY_RECORDS']);
  });

  it('lists at most 50 problems and says the rest were left out', () => {
    const result = parseResultDetails(`2014^0.01^SUCCESS${'|x'.repeat(100_000)}`);
    expect(result.ok).toBe(false);
    const errors = result.ok ? [] : result.errors;
    expect(errors).toHaveLength(51);
    expect(errors[50]).toMatchObject({ field: 'result_details', message: 'further problems not listed' });
  });

  it('names a field of many ^ without splitting all of it', () => {
    const result = parseResultDetails(`2014^0.01^SUCCESS${'^'.repeat(100_000)}`);
    expect(result.ok === false && result.errors[0].message).toMatch(/has more than 6 \^-fields/);
  });
});

describe('refundResultOutcome', () => {
  it('separates refunded, already closed and failed records', () => {
    expect(refundResultOutcome('SUCCESS')).toBe('refunded');
    expect(refundResultOutcome('TRADE_HAS_CLOSED')).toBe('already_closed');
    expect(refundResultOutcome('SELLER_BALANCE_NOT_ENOUGH')).toBe('failed');
    expect(refundResultOutcome('SOMETHING_NEW')).toBe('failed');
    expect(refundResultOutcome('success')).toBe('failed');
  });
});
