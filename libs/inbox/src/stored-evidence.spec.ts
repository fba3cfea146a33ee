import { verifyNotification } from '@ledger/alipay-protocol';
import fc from 'fast-check';
import type { InboxOutcomeDetail } from './inbox-notification';
import {
  HEADERS_CUT_KEY,
  MAX_STORED_ERRORS,
  MAX_STORED_EXPLANATION_BYTES,
  MAX_STORED_HEADER_BYTES,
  MAX_STORED_HEADERS,
  MAX_STORED_MESSAGE,
  REFUSED_BODY_EVIDENCE_BYTES,
  storedBody,
  storedDetail,
  storedHeaders,
  storedVerification,
} from './stored-evidence';

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');
const MD5_KEY = 'k'.repeat(32);

function explain(body: string) {
  return verifyNotification(Buffer.from(body, 'latin1'), {
    signType: 'MD5',
    md5Keys: [MD5_KEY],
    defaultCharset: 'utf-8',
    source: 'notify',
  }).explanation;
}

describe('the bounds of stored evidence', () => {
  it('keeps a body within the cap whole and only the first 64 KiB of a refused one', () => {
    const small = Buffer.from('notify_id=1&sign=x');
    expect(storedBody(small, false, 1024)).toEqual({ body: small, truncated: false });
    const large = Buffer.alloc(2048, 'a');
    expect(storedBody(large, false, 1024)).toEqual({ body: large, truncated: true });
    const refused = Buffer.alloc(REFUSED_BODY_EVIDENCE_BYTES * 2, 'b');
    const kept = storedBody(refused, true, 1024 * 1024);
    expect(kept.truncated).toBe(true);
    expect(kept.body.equals(refused.subarray(0, REFUSED_BODY_EVIDENCE_BYTES))).toBe(true);
  });

  it('keeps ordinary headers exactly as they came', () => {
    const headers = {
      'content-type': 'application/x-www-form-urlencoded; text/html; charset=utf-8',
      'x-forwarded-for': ['10.0.0.1', '10.0.0.2'],
      'user-agent': 'Mozilla/4.0',
    };
    expect(storedHeaders(headers)).toEqual(headers);
  });

  it('bounds any headers in count and size, and says what it left out', () => {
    const header = fc.tuple(fc.string({ minLength: 1, maxLength: 40 }), fc.string({ maxLength: 5000 }));
    fc.assert(
      fc.property(fc.array(header, { maxLength: 400 }), (pairs) => {
        const headers: Record<string, string | string[]> = {};
        for (const [name, value] of pairs) {
          const seen = headers[name];
          headers[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
        }
        const kept = storedHeaders(headers);
        const { [HEADERS_CUT_KEY]: note, ...lines } = kept;
        const values = Object.entries(lines).flatMap(([name, value]) =>
          (Array.isArray(value) ? value : [value]).map((item) => name.length + item.length),
        );
        expect(values.length).toBeLessThanOrEqual(MAX_STORED_HEADERS);
        expect(values.reduce((sum, size) => sum + size, 0)).toBeLessThanOrEqual(MAX_STORED_HEADER_BYTES);
        const total = Object.values(headers).flat().length;
        if (values.length < total) expect(note).toContain(`of ${total} header lines`);
      }),
    );
  });

  it('keeps a small explanation whole and cuts a large one to its gist, saying so', () => {
    const small = explain('notify_id=1&out_trade_no=A&sign=x&sign_type=MD5');
    expect(storedVerification(small)).toBe(small);

    // The protocol already bounds what it explains (docs/operations.md, "Hostile input"); the store's own
    // bound holds whatever it is given, e.g. an explanation of an older release or another producer.
    const base = explain(Array.from({ length: 150 }, (_, i) => `p${i}=${i}`).join('&'));
    const hostile = { ...base, hints: Array.from({ length: 40 }, (_, i) => `hint ${i} ${'h'.repeat(400)}`) };
    expect(jsonBytes(hostile)).toBeGreaterThan(MAX_STORED_EXPLANATION_BYTES);
    const stored = storedVerification(hostile);
    expect(jsonBytes(stored)).toBeLessThanOrEqual(MAX_STORED_EXPLANATION_BYTES);
    expect(stored).toMatchObject({
      outcome: hostile.outcome,
      charset: hostile.charset,
      cut: { explanationBytes: jsonBytes(hostile), parameters: base.parameterNames.length },
    });
  });

  it('bounds the messages and problem lists of an outcome', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 5000 }),
        fc.array(
          fc.record({ field: fc.string({ maxLength: 600 }), message: fc.string({ maxLength: 600 }) }),
          {
            maxLength: 200,
          },
        ),
        (message, problems) => {
          const detail: InboxOutcomeDetail = {
            outcome: 'rejected',
            reason: 'malformed',
            message,
            errors: problems.map((p) => ({ code: 'MALFORMED_AMOUNT' as const, ...p })),
          };
          const stored = storedDetail(detail);
          if (stored.outcome !== 'rejected') throw new Error('the outcome changed');
          expect(stored.message.length).toBeLessThanOrEqual(MAX_STORED_MESSAGE);
          expect(stored.errors?.length).toBe(Math.min(problems.length, MAX_STORED_ERRORS));
          expect(jsonBytes(stored)).toBeLessThanOrEqual(4 * (MAX_STORED_MESSAGE + MAX_STORED_ERRORS * 600));
          if (problems.length > MAX_STORED_ERRORS) expect(stored.errorCount).toBe(problems.length);
          const short = (text: string) => text.length <= 256;
          const fits = problems.every((p) => short(p.field) && short(p.message));
          if (message.length <= MAX_STORED_MESSAGE && problems.length <= MAX_STORED_ERRORS && fits) {
            expect(stored).toEqual(detail);
          }
        },
      ),
    );
  });
});
