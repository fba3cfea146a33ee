import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import fc from 'fast-check';
import type { TextParam } from './form-encoding';
import {
  md5Sign,
  parseRsaPrivateKey,
  parseRsaPublicKey,
  preSignFromText,
  preSignString,
  rsaSign,
  signParams,
  verifyMd5,
  verifyRsa,
} from './signing';

const KEY = '10000000000000000000000000000000';
const OTHER_KEY = 'abcdefghijklmnopqrstuvwxyz012345';

function params(record: Record<string, string>): TextParam[] {
  return Object.entries(record).map(([name, value]) => ({ name, value }));
}

function md5Of(text: string, key = KEY): string {
  const result = md5Sign(Buffer.from(text, 'utf8'), key);
  if (!result.ok) throw new Error(result.errors[0].message);
  return result.value;
}

function unwrap<T>(
  result: { ok: true; value: T } | { ok: false; errors: readonly { message: string }[] },
): T {
  if (!result.ok) throw new Error(result.errors.map((e) => e.message).join('; '));
  return result.value;
}

describe('the public MD5 examples (docs/alipay-protocol.md, "MD5 examples")', () => {
  it.each([
    ['partner=123&service=test', 'bbd13b52823b576291595f472ebcfbc2'],
    ['notify_id=1234', '22fc7e38e5acdfede396aa463870d111'],
    [
      '_input_charset=utf-8&logistics_fee=0&logistics_payment=SELLER_PAY&logistics_type=POST&out_trade_no=1&partner=1000000000000000&payment_type=1&price=0.01&quantity=1&seller_id=1000000000000000&service=trade_create_by_buyer&subject=test',
      '2d296368fea70a127da939558c970bab',
    ],
    [
      '_input_charset=utf-8&out_trade_no=1&partner=1000000000000000&payment_type=1&price=0.01&quantity=1&seller_id=1000000000000000&service=create_direct_pay_by_user&subject=test',
      '682ad02280fca7d4c0fd22678fdddeef',
    ],
    [
      '_input_charset=utf-8&batch_no=123456789&batch_num=1&detail_data=1^0.01^test&notify_url=/some_url&partner=1000000000000000&refund_date=2015-01-01 00:00:00&seller_user_id=1000000000000000&service=refund_fastpay_by_platform_pwd',
      'def57a58e1ac21f70c45e41bd3697368',
    ],
  ])('md5(%s + key) = %s', (preSign, expected) => {
    expect(md5Of(preSign)).toBe(expected);
  });

  it('rebuilds the notification example, sign_type excluded', () => {
    const preSign = unwrap(preSignFromText(params({ sign_type: 'MD5', notify_id: '1234' }), 'utf-8'));
    expect(preSign.bytes.toString()).toBe('notify_id=1234');
    expect(preSign.excluded).toEqual([{ name: 'sign_type', reason: 'SIGNATURE_PARAMETER' }]);
    expect(verifyMd5(preSign.bytes, '22fc7e38e5acdfede396aa463870d111', [KEY]).ok).toBe(true);
  });

  it('rebuilds the refund example from unordered parameters, values not URL-encoded', () => {
    const refund = params({
      service: 'refund_fastpay_by_platform_pwd',
      partner: '1000000000000000',
      seller_user_id: '1000000000000000',
      refund_date: '2015-01-01 00:00:00',
      notify_url: '/some_url',
      detail_data: '1^0.01^test',
      batch_num: '1',
      batch_no: '123456789',
      _input_charset: 'utf-8',
    });
    const signed = unwrap(signParams(refund, 'utf-8', { signType: 'MD5', md5Key: KEY }));
    expect(signed.sign).toBe('def57a58e1ac21f70c45e41bd3697368');
    expect(signed.params.slice(-2)).toEqual([
      { name: 'sign', value: 'def57a58e1ac21f70c45e41bd3697368' },
      { name: 'sign_type', value: 'MD5' },
    ]);
  });
});

describe('the pre-sign string', () => {
  it('sorts names in byte order, not locale order', () => {
    const text = preSignString(params({ b: '1', B: '2', _x: '3', a: '4', '1': '5', a_b: '6', ab: '7' }));
    expect(text).toBe('1=5&B=2&_x=3&a=4&a_b=6&ab=7&b=1');
  });

  it('sorts non-ASCII names by their bytes, not by UTF-16 code units', () => {
    // UTF-16 puts U+1F600 (a surrogate pair, 0xD83D…) before U+FF21; UTF-8 bytes put F0… after EF….
    const result = unwrap(preSignFromText(params({ '😀': '1', Ａ: '2', z: '3' }), 'utf-8'));
    expect(result.bytes.toString()).toBe('z=3&Ａ=2&😀=1');
    expect(result.included).toEqual(['z', 'Ａ', '😀']);
  });

  it('leaves out sign, sign_type and empty values, but keeps "0" and spaces', () => {
    const result = unwrap(
      preSignFromText(
        params({ sign: 'x', sign_type: 'MD5', body: '', logistics_fee: '0', subject: ' a b ' }),
        'utf-8',
      ),
    );
    expect(result.bytes.toString()).toBe('logistics_fee=0&subject= a b ');
    expect(result.excluded).toEqual([
      { name: 'sign', reason: 'SIGNATURE_PARAMETER' },
      { name: 'sign_type', reason: 'SIGNATURE_PARAMETER' },
      { name: 'body', reason: 'EMPTY_VALUE' },
    ]);
  });

  it('excludes by exact name only', () => {
    expect(preSignString(params({ SIGN: 'x', signature: 'y', sign_type_x: 'z' }))).toBe(
      'SIGN=x&sign_type_x=z&signature=y',
    );
  });

  it('encodes Chinese in the charset: GBK and UTF-8 give different bytes and signatures', () => {
    const chinese = params({ subject: '测试商品', total_fee: '0.01' });
    const gbk = unwrap(preSignFromText(chinese, 'gbk')).bytes;
    const utf8 = unwrap(preSignFromText(chinese, 'utf-8')).bytes;
    expect(gbk.length).toBe('subject=&total_fee=0.01'.length + 8);
    expect(utf8.length).toBe('subject=&total_fee=0.01'.length + 12);
    const gbkSign = unwrap(md5Sign(gbk, KEY));
    expect(gbkSign).toBe(
      createHash('md5')
        .update(Buffer.concat([gbk, Buffer.from(KEY)]))
        .digest('hex'),
    );
    expect(verifyMd5(gbk, gbkSign, [KEY]).ok).toBe(true);
    expect(verifyMd5(gbk, unwrap(md5Sign(utf8, KEY)), [KEY]).ok).toBe(false);
  });

  it('refuses text the charset cannot carry', () => {
    expect(preSignFromText(params({ subject: '한국' }), 'gbk')).toMatchObject({
      ok: false,
      errors: [{ code: 'UNENCODABLE_CHARACTER', field: 'subject' }],
    });
  });
});

describe('MD5 verification', () => {
  const preSign = Buffer.from('partner=123&service=test');
  const sign = 'bbd13b52823b576291595f472ebcfbc2';

  it('reports which key of a rotation matched, by index', () => {
    expect(verifyMd5(preSign, sign, [OTHER_KEY, KEY])).toEqual({
      ok: true,
      matchedKeyIndex: 1,
      attempts: [
        { index: 0, outcome: 'no-match' },
        { index: 1, outcome: 'matched' },
      ],
    });
  });

  it('accepts the signature as bytes too', () => {
    expect(verifyMd5(preSign, Buffer.from(sign), [KEY]).ok).toBe(true);
  });

  it('refuses upper-case hex and says why', () => {
    const result = verifyMd5(preSign, sign.toUpperCase(), [KEY]);
    expect(result.ok).toBe(false);
    expect(result.malformedSignature).toBe('an MD5 sign is lower-case hex, got upper case');
  });

  it.each(['', sign.slice(0, 31), `${sign}0`, `${sign.slice(0, 31)}g`])(
    'refuses the malformed sign %j',
    (bad) => {
      const result = verifyMd5(preSign, bad, [KEY]);
      expect(result.ok).toBe(false);
      expect(result.malformedSignature).toBeDefined();
    },
  );

  it('never treats an empty or malformed key as a key, even when the sign was made with it', () => {
    const forged = createHash('md5').update(preSign).digest('hex');
    const result = verifyMd5(preSign, forged, ['', 'short']);
    expect(result.ok).toBe(false);
    expect(result.attempts.map((a) => a.outcome)).toEqual(['invalid-key', 'invalid-key']);
    expect(md5Sign(preSign, '')).toMatchObject({ ok: false, errors: [{ code: 'INVALID_KEY' }] });
  });

  it('fails with no key at all', () => {
    expect(verifyMd5(preSign, sign, [])).toEqual({ ok: false, attempts: [] });
  });
});

describe('RSA (SHA1withRSA, base64)', () => {
  const first = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const second = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const pem = (key: KeyObject, type: 'pkcs1' | 'pkcs8' | 'spki') =>
    key.export({ format: 'pem', type } as never) as unknown as string;
  const pkcs1Private = pem(first.privateKey, 'pkcs1');
  const pkcs8Private = pem(first.privateKey, 'pkcs8');
  const spkiPublic = pem(first.publicKey, 'spki');
  const pkcs1Public = pem(first.publicKey, 'pkcs1');
  const preSign = unwrap(preSignFromText(params({ subject: '测试', total_fee: '0.01' }), 'gbk')).bytes;

  it('reads both private PEM forms, and they sign identically (PKCS#1 v1.5 is deterministic)', () => {
    expect(pkcs1Private).toContain('-----BEGIN RSA PRIVATE KEY-----');
    expect(pkcs8Private).toContain('-----BEGIN PRIVATE KEY-----');
    const a = unwrap(rsaSign(preSign, pkcs1Private));
    const b = unwrap(rsaSign(preSign, pkcs8Private));
    expect(a).toBe(b);
    expect(a).toMatch(/^[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(a, 'base64')).toHaveLength(128);
  });

  it('verifies with both public PEM forms and the bare base64 body a console shows', () => {
    const sign = unwrap(rsaSign(preSign, pkcs8Private));
    const bare = spkiPublic.replace(/-----[A-Z ]+-----|\s/g, '');
    const barePkcs1 = pkcs1Public.replace(/-----[A-Z ]+-----|\s/g, '');
    for (const key of [spkiPublic, pkcs1Public, bare, barePkcs1, first.publicKey]) {
      expect(verifyRsa(preSign, sign, [key]).ok).toBe(true);
    }
  });

  it('reads a bare base64 private key in both forms', () => {
    const bare8 = pkcs8Private.replace(/-----[A-Z ]+-----|\s/g, '');
    const bare1 = pkcs1Private.replace(/-----[A-Z ]+-----|\s/g, '');
    expect(unwrap(rsaSign(preSign, bare8))).toBe(unwrap(rsaSign(preSign, bare1)));
  });

  it('reports which public key of a rotation matched', () => {
    const sign = unwrap(rsaSign(preSign, second.privateKey));
    const result = verifyRsa(preSign, sign, [spkiPublic, pem(second.publicKey, 'spki')]);
    expect(result).toEqual({
      ok: true,
      matchedKeyIndex: 1,
      attempts: [
        { index: 0, outcome: 'no-match' },
        { index: 1, outcome: 'matched' },
      ],
    });
  });

  it('fails on other bytes: the same text signed over UTF-8 does not verify GBK bytes', () => {
    const utf8 = unwrap(preSignFromText(params({ subject: '测试', total_fee: '0.01' }), 'utf-8')).bytes;
    expect(verifyRsa(preSign, unwrap(rsaSign(utf8, pkcs1Private)), [spkiPublic]).ok).toBe(false);
  });

  it('explains a + that became a space, instead of letting base64 decoding skip it', () => {
    let sign = unwrap(rsaSign(preSign, pkcs1Private));
    for (let i = 0; !sign.includes('+'); i++)
      sign = unwrap(rsaSign(Buffer.concat([preSign, Buffer.from([i])]), pkcs1Private));
    const result = verifyRsa(preSign, sign.replace(/\+/g, ' '), [spkiPublic]);
    expect(result.ok).toBe(false);
    expect(result.malformedSignature).toContain('a "+" of the base64 was read as a space');
  });

  it('reports unusable keys as invalid, without throwing', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const sign = unwrap(rsaSign(preSign, pkcs1Private));
    const result = verifyRsa(preSign, sign, [pkcs1Private, 'garbage', pem(ec.publicKey, 'spki'), spkiPublic]);
    expect(result.ok).toBe(true);
    expect(result.matchedKeyIndex).toBe(3);
    expect(result.attempts.slice(0, 3).map((a) => [a.outcome, a.detail])).toEqual([
      ['invalid-key', 'a private key was given where a public key is expected'],
      ['invalid-key', 'not a readable public key (PEM or base64 DER)'],
      ['invalid-key', 'public key is ec, not RSA'],
    ]);
    expect(parseRsaPrivateKey(spkiPublic).ok).toBe(false);
    expect(parseRsaPublicKey('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----').ok).toBe(false);
    expect(rsaSign(preSign, first.publicKey)).toMatchObject({ ok: false, errors: [{ code: 'INVALID_KEY' }] });
  });
});

describe('signParams', () => {
  it('signs what it sends: empty values are dropped from both', () => {
    const signed = unwrap(
      signParams(params({ service: 'x', partner: '1', body: '', subject: 'a' }), 'utf-8', {
        signType: 'MD5',
        md5Key: KEY,
      }),
    );
    expect(signed.params.map((p) => p.name)).toEqual(['partner', 'service', 'subject', 'sign', 'sign_type']);
    expect(signed.preSign).toBe('partner=1&service=x&subject=a');
    expect(signed.sign).toBe(md5Of('partner=1&service=x&subject=a'));
  });

  it('refuses a parameter given twice', () => {
    const result = signParams(
      [
        { name: 'a', value: '1' },
        { name: 'a', value: '2' },
      ],
      'utf-8',
      { signType: 'MD5', md5Key: KEY },
    );
    expect(result).toMatchObject({ ok: false, errors: [{ code: 'DUPLICATE_FIELD', field: 'a' }] });
  });
});

describe('sign → verify round trip (property)', () => {
  const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,15}$/).filter((n) => n !== 'sign' && n !== 'sign_type');
  const value = fc.oneof(
    fc.string({ unit: 'grapheme' }),
    fc.constantFrom('测试商品', 'a&b=c', '1+1', '100%', '%2F', ' ', '中文 & =+%'),
  );
  const paramSet = fc.uniqueArray(fc.tuple(name, value), { selector: ([n]) => n, maxLength: 12 });

  it('verifies whatever it signs, in both charsets, and a changed value fails', () => {
    fc.assert(
      fc.property(paramSet, fc.constantFrom('utf-8' as const, 'gbk' as const), (entries, charset) => {
        const preSign = preSignFromText(params(Object.fromEntries(entries)), charset);
        if (!preSign.ok) return; // text GBK cannot carry
        const sign = unwrap(md5Sign(preSign.value.bytes, KEY));
        expect(verifyMd5(preSign.value.bytes, sign, [OTHER_KEY, KEY]).matchedKeyIndex).toBe(1);
        const tampered = Buffer.concat([preSign.value.bytes, Buffer.from('x')]);
        expect(verifyMd5(tampered, sign, [KEY]).ok).toBe(false);
      }),
    );
  });
});
