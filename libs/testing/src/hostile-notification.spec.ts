import fc from 'fast-check';
import {
  MAX_EXPLANATION_BYTES,
  MAX_NOTIFICATION_PARAMETERS,
  MAX_PARAMETER_NAME_BYTES,
  parseForm,
  verifyNotification,
  type Charset,
  type VerificationOptions,
} from '@ledger/alipay-protocol';
import { DEMO_ALIPAY } from '@ledger/platform';
import { newTradeNo, signedNotification, tradeStatusSyncParams } from './signed-notification';

// Whatever a body holds, verifying it never throws, refuses what exceeds a cap with that cap's reason, and
// explains itself in at most MAX_EXPLANATION_BYTES of JSON, the size the inbox stores for every
// notification (docs/operations.md, "Hostile input"). Genuine notifications still verify.

function options(charset: Charset = 'utf-8', contentType?: string): VerificationOptions {
  return {
    signType: 'MD5',
    md5Keys: [DEMO_ALIPAY.md5Key],
    defaultCharset: charset,
    ...(contentType === undefined ? {} : { contentType }),
    source: 'notify',
  };
}

function storedBytes(explanation: unknown): number {
  return Buffer.byteLength(JSON.stringify(explanation), 'utf8');
}

const repeated = (unit: string, max: number) =>
  fc.integer({ min: 1, max }).map((count) => unit.repeat(count));

/** One `&`-separated piece of a hostile body, as bytes. */
const hostileSegment: fc.Arbitrary<Buffer> = fc.oneof(
  fc.nat(99_999).map((n) => Buffer.from(`p${n}`)),
  fc
    .constantFrom('a=1', 'sign=x', 'sign_type=MD5', 'sign_type=', '_input_charset=gbk', 'charset=x')
    .map(Buffer.from),
  repeated('a', 5000).map((value) => Buffer.from(`v=${value}`)),
  repeated('%25', 3000).map((deep) => Buffer.from(`deep=${deep}`)),
  repeated('%', 3000).map((lone) => Buffer.from(`lone=${lone}`)),
  repeated('%u', 2000).map((escape) => Buffer.from(`u${escape}=%u0041`)),
  repeated('%00', 2000).map((nul) => Buffer.from(`nul${nul}=${nul}`)),
  repeated('+', 3000).map((plus) => Buffer.from(`plus=${plus}`)),
  fc.uint8Array({ minLength: 1, maxLength: 3000 }).map((bytes) => Buffer.concat([Buffer.from('g='), bytes])),
  fc.uint8Array({ minLength: 1, maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  repeated('n', 20_000).map((name) => Buffer.from(`${name}=1`)),
  repeated('\\"\x01', 500).map((name) => Buffer.from(`${name}=%01`)),
  repeated('&', 2000).map(Buffer.from),
  repeated('=&', 500).map(Buffer.from),
);

const hostileBody: fc.Arbitrary<Buffer> = fc
  .tuple(
    // Signed-looking or not: a well-formed sign takes the body through the signature check and diagnosis.
    fc.constantFrom('', `sign=${'0'.repeat(32)}&sign_type=MD5&`, `sign=${'0'.repeat(32)}&sign_type=RSA&`),
    fc.array(hostileSegment, { maxLength: 12 }),
    // Sometimes many short segments, enough to pass the parameter cap.
    fc.constantFrom(0, 0, 150, 250, 5000),
  )
  .map(([signed, segments, padding]) =>
    Buffer.concat([
      Buffer.from(signed),
      ...segments.flatMap((segment) => [segment, Buffer.from('&')]),
      Buffer.from(Array.from({ length: padding }, (_, i) => `e${i}`).join('&')),
    ]),
  );

/** The reason a cap gives, computed from the body without the verification's own early stop. */
function expectedCapReason(body: Buffer): string | undefined {
  const segments = body
    .toString('latin1')
    .split('&')
    .filter((segment) => segment !== '').length;
  if (segments > MAX_NOTIFICATION_PARAMETERS) return 'TOO_MANY_PARAMETERS';
  const tooLong = parseForm(body).pairs.some((pair) => pair.name.length > MAX_PARAMETER_NAME_BYTES);
  return tooLong ? 'PARAMETER_NAME_TOO_LONG' : undefined;
}

describe('verifying hostile bodies', () => {
  it('never throws, refuses by the cap exceeded and explains in bounded space (property)', () => {
    fc.assert(
      fc.property(hostileBody, fc.constantFrom<Charset>('utf-8', 'gbk'), (body, charset) => {
        const result = verifyNotification(body, options(charset, 'text/html; charset=GBK'));
        expect(result.ok).toBe(false);
        expect(storedBytes(result.explanation)).toBeLessThanOrEqual(MAX_EXPLANATION_BYTES);
        expect(result.explanation.summary.length).toBeLessThanOrEqual(320);
        const cap = expectedCapReason(body);
        if (cap !== undefined) expect(result.reason).toBe(cap);
        else expect(['TOO_MANY_PARAMETERS', 'PARAMETER_NAME_TOO_LONG']).not.toContain(result.reason);
      }),
      { numRuns: 200 },
    );
  });

  it('names the cap and what was received', () => {
    const body = Buffer.from(Array.from({ length: 50_000 }, (_, i) => `p${i}`).join('&'));
    const many = verifyNotification(body, options());
    expect(many.reason).toBe('TOO_MANY_PARAMETERS');
    expect(many.explanation.summary).toBe('50000 parameters received, at most 200 accepted');
    expect(many.explanation.parameterNames.length).toBeLessThanOrEqual(MAX_NOTIFICATION_PARAMETERS);
    expect(many.params).toEqual([]);

    const long = verifyNotification(`${'n'.repeat(100_000)}=1&sign=x&sign_type=MD5`, options());
    expect(long.reason).toBe('PARAMETER_NAME_TOO_LONG');
    expect(long.explanation.summary).toMatch(
      /^a parameter name of 100000 bytes received, at most 64 accepted/,
    );
    expect(long.explanation.parameterNames[0]).toMatch(/…\[99\d{3} more characters\]$/);
  });

  it('cuts a long pre-sign string with a marker saying how many bytes were left out', () => {
    const result = verifyNotification(
      `a=${'x'.repeat(100_000)}&sign=${'0'.repeat(32)}&sign_type=MD5`,
      options(),
    );
    expect(result.reason).toBe('SIGNATURE_MISMATCH');
    expect(result.explanation.preSign).toMatch(/^a=x+…\[\d+ more bytes\]$/);
    expect(result.explanation.signedString).toBe(`${result.explanation.preSign}<MD5 key>`);
    expect(storedBytes(result.explanation)).toBeLessThanOrEqual(MAX_EXPLANATION_BYTES);
  });

  it('still verifies genuine notifications, whatever their subject, in either charset (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.constantFrom<Charset>('utf-8', 'gbk'),
        (subject, charset) => {
          const params = tradeStatusSyncParams({
            outTradeNo: 'ORDER-1',
            tradeNo: newTradeNo(),
            tradeStatus: 'TRADE_SUCCESS',
            totalFee: '12.34',
            subject: `order ${subject}`,
          });
          let notification;
          try {
            notification = signedNotification(params, DEMO_ALIPAY.md5Key, charset);
          } catch {
            return; // a subject GBK cannot write is not a notification Alipay can send
          }
          const result = verifyNotification(notification.body, options(charset, notification.contentType));
          expect(result.reason).toBe('VERIFIED');
          expect(storedBytes(result.explanation)).toBeLessThanOrEqual(MAX_EXPLANATION_BYTES);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('verifies a genuine notification with a long value, cutting only its explanation', () => {
    const notification = signedNotification(
      tradeStatusSyncParams({
        outTradeNo: 'ORDER-2',
        tradeNo: newTradeNo(),
        tradeStatus: 'TRADE_SUCCESS',
        totalFee: '12.34',
        extra: { body: '商品描述 '.repeat(20_000) },
      }),
    );
    const result = verifyNotification(notification.body, options('utf-8', notification.contentType));
    expect(result.reason).toBe('VERIFIED');
    expect(result.params.find((p) => p.name === 'body')?.value).toBe('商品描述 '.repeat(20_000));
    expect(storedBytes(result.explanation)).toBeLessThanOrEqual(MAX_EXPLANATION_BYTES);
  });
});
