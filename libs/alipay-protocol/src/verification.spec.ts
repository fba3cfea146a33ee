import { createHash, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import type { Charset } from './charset';
import { encodeForm, type TextParam } from './form-encoding';
import { signParams, type SigningKey } from './signing';
import { verifyNotification, type VerificationOptions } from './verification';

const KEY = '10000000000000000000000000000000';
const OLD_KEY = 'abcdefghijklmnopqrstuvwxyz012345';
const MALFORMED_CONTENT_TYPE = 'application/x-www-form-urlencoded; text/html; charset=UTF-8';

const md5: VerificationOptions = {
  signType: 'MD5',
  md5Keys: [KEY],
  defaultCharset: 'utf-8',
  source: 'notify',
};

function list(record: Record<string, string>): TextParam[] {
  return Object.entries(record).map(([name, value]) => ({ name, value }));
}

function signedBody(
  params: TextParam[],
  charset: Charset = 'utf-8',
  key: SigningKey = { signType: 'MD5', md5Key: KEY },
): string {
  const signed = signParams(params, charset, key);
  if (!signed.ok) throw new Error(signed.errors[0].message);
  const body = encodeForm(signed.value.params, charset);
  if (!body.ok) throw new Error(body.errors[0].message);
  return body.value;
}

function md5Hex(text: string | Buffer): string {
  return createHash('md5')
    .update(Buffer.concat([Buffer.from(text), Buffer.from(KEY)]))
    .digest('hex');
}

const notification = list({
  notify_time: '2016-09-24 21:03:57',
  notify_type: 'trade_status_sync',
  notify_id: '70fec0c2730b27528665af4517c27b95',
  out_trade_no: 'A1001',
  subject: 'test',
  trade_no: '2016092421001004060212345678',
  trade_status: 'TRADE_SUCCESS',
  total_fee: '0.01',
  seller_id: '2088101122136241',
});

describe('verifyNotification (MD5)', () => {
  it('verifies a signed body and returns its parameters as text, in received order', () => {
    const body = signedBody(notification);
    const result = verifyNotification(body, { ...md5, contentType: MALFORMED_CONTENT_TYPE });
    expect(result.ok).toBe(true);
    expect(result.reason).toBe('VERIFIED');
    expect(result.params.map((p) => p.name)).toEqual([
      'notify_id',
      'notify_time',
      'notify_type',
      'out_trade_no',
      'seller_id',
      'subject',
      'total_fee',
      'trade_no',
      'trade_status',
      'sign',
      'sign_type',
    ]);
    expect(result.params.find((p) => p.name === 'notify_time')?.value).toBe('2016-09-24 21:03:57');
    expect(result.explanation).toMatchObject({
      charset: 'utf-8',
      charsetSource: 'content-type',
      receivedSignType: 'MD5',
      matchedKeyIndex: 0,
      keys: [{ index: 0, outcome: 'matched' }],
      excluded: [
        { name: 'sign', reason: 'SIGNATURE_PARAMETER' },
        { name: 'sign_type', reason: 'SIGNATURE_PARAMETER' },
      ],
      outcome: 'VERIFIED',
      summary: 'MD5 signature verified with key #0 over 9 parameters read as utf-8 (content-type)',
    });
  });

  // docs/alipay-protocol.md, "Decoding pitfalls"
  it('reads + as a space, as in the genuine notification', () => {
    const preSign = 'body=7018-test-3 CNY&notify_id=1';
    const raw = `body=7018-test-3+CNY&notify_id=1&sign=${md5Hex(preSign)}&sign_type=MD5`;
    const result = verifyNotification(raw, md5);
    expect(result.ok).toBe(true);
    expect(result.explanation.preSign).toBe(preSign);
    const keepingPlus = `body=7018-test-3+CNY&notify_id=1&sign=${md5Hex('body=7018-test-3+CNY&notify_id=1')}&sign_type=MD5`;
    expect(verifyNotification(keepingPlus, md5).reason).toBe('SIGNATURE_MISMATCH');
  });

  it('reads %2B as a plus', () => {
    const raw = `body=1%2B1&notify_id=1&sign=${md5Hex('body=1+1&notify_id=1')}&sign_type=MD5`;
    expect(verifyNotification(raw, md5).ok).toBe(true);
  });

  it('excludes empty values, and hints when the sender signed them', () => {
    const raw = `body=&notify_id=1&sign=${md5Hex('notify_id=1')}&sign_type=MD5`;
    const result = verifyNotification(raw, md5);
    expect(result.ok).toBe(true);
    expect(result.explanation.excluded).toContainEqual({ name: 'body', reason: 'EMPTY_VALUE' });

    const signedWithEmpty = `body=&notify_id=1&sign=${md5Hex('body=&notify_id=1')}&sign_type=MD5`;
    const failed = verifyNotification(signedWithEmpty, md5);
    expect(failed.reason).toBe('SIGNATURE_MISMATCH');
    expect(failed.explanation.hints).toEqual(['would verify if the empty values (body) were signed']);
  });

  it('keeps a return_url notify_id in its once-decoded form', () => {
    const once = 'RqPnCoPT3K9%2Fvwbh3InWes5p8ZRYIdWn4DYfTZV%2FByZc5wcE2q9pffj29yQCHA%2BTNHUY';
    const query = (sign: string) =>
      `buyer_email=aaa%40qq.com&is_success=T&notify_id=${once.replace(/%/g, '%25')}&total_fee=0.01&sign=${sign}&sign_type=MD5`;
    const preSign = `buyer_email=aaa@qq.com&is_success=T&notify_id=${once}&total_fee=0.01`;
    const result = verifyNotification(query(md5Hex(preSign)), { ...md5, source: 'return' });
    expect(result.ok).toBe(true);
    expect(result.params.find((p) => p.name === 'notify_id')?.value).toBe(once);
    expect(result.explanation.hints).toEqual([
      'notify_id kept in its once-decoded form (with its %XX), as Alipay signs it',
    ]);

    const twiceDecoded = preSign.replace(once, decodeURIComponent(once));
    expect(verifyNotification(query(md5Hex(twiceDecoded)), { ...md5, source: 'return' }).ok).toBe(false);
  });

  it('signs exactly what was sent: a parameter added to the raw input breaks the signature', () => {
    const body = signedBody(notification);
    expect(verifyNotification(`${body}&q=/notify`, md5).reason).toBe('SIGNATURE_MISMATCH');
  });

  it.each([
    MALFORMED_CONTENT_TYPE,
    'application/x-www-form-urlencoded; text/html; charset=',
    'text/plain',
    ';;;',
    'charset=utf-16; charset=gbk',
    '',
    undefined,
  ])('verifies whatever the Content-Type (%j)', (contentType) => {
    expect(verifyNotification(signedBody(notification), { ...md5, contentType }).ok).toBe(true);
  });

  it('reports which key of a rotation matched', () => {
    const body = signedBody(notification, 'utf-8', { signType: 'MD5', md5Key: OLD_KEY });
    const result = verifyNotification(body, { ...md5, md5Keys: [KEY, OLD_KEY] });
    expect(result.ok).toBe(true);
    expect(result.explanation.matchedKeyIndex).toBe(1);
    expect(result.explanation.keys).toEqual([
      { index: 0, outcome: 'no-match' },
      { index: 1, outcome: 'matched' },
    ]);
  });

  it('redacts the key and never shows the expected signature', () => {
    const body = signedBody(notification).replace(/sign=[0-9a-f]{32}/, `sign=${'0'.repeat(32)}`);
    const result = verifyNotification(body, md5);
    expect(result.reason).toBe('SIGNATURE_MISMATCH');
    expect(result.explanation.signedString).toBe(`${result.explanation.preSign}<MD5 key>`);
    const json = JSON.stringify(result);
    expect(json).not.toContain(KEY);
    expect(json).not.toContain(md5Hex(result.explanation.preSign));
  });
});

describe('verifyNotification (GBK)', () => {
  const chinese = list({ notify_id: '1', subject: '测试商品', body: '中文 & =+%' });

  it('verifies GBK bytes and decodes the text afterwards', () => {
    const body = signedBody(chinese, 'gbk');
    expect(body).toContain('subject=%B2%E2%CA%D4%C9%CC%C6%B7');
    const result = verifyNotification(body, {
      ...md5,
      contentType: 'application/x-www-form-urlencoded; text/html; charset=GBK',
    });
    expect(result.ok).toBe(true);
    expect(result.params.find((p) => p.name === 'subject')?.value).toBe('测试商品');
    expect(result.params.find((p) => p.name === 'body')?.value).toBe('中文 & =+%');
    expect(result.explanation.preSign).toBe('body=中文 & =+%&notify_id=1&subject=测试商品');
  });

  it('uses the configured charset when nothing else names one', () => {
    const result = verifyNotification(signedBody(chinese, 'gbk'), { ...md5, defaultCharset: 'gbk' });
    expect(result.ok).toBe(true);
    expect(result.explanation.charsetSource).toBe('default');
    expect(result.params.find((p) => p.name === 'subject')?.value).toBe('测试商品');
  });

  it('does not verify GBK bytes against a signature made over the UTF-8 bytes of the same text', () => {
    const utf8Signed = signParams(chinese, 'utf-8', { signType: 'MD5', md5Key: KEY });
    if (!utf8Signed.ok) throw new Error('sign');
    const gbkBody = encodeForm(utf8Signed.value.params, 'gbk');
    if (!gbkBody.ok) throw new Error('encode');
    const result = verifyNotification(gbkBody.value, { ...md5, defaultCharset: 'gbk' });
    expect(result.reason).toBe('SIGNATURE_MISMATCH');
  });

  it('verifies over the bytes even when a wrong charset is announced, and says which values do not decode', () => {
    const result = verifyNotification(signedBody(chinese, 'gbk'), {
      ...md5,
      contentType: 'x; charset=utf-8',
    });
    expect(result.ok).toBe(true);
    expect(result.explanation.charsetNotes).toEqual([
      'body is not valid utf-8',
      'subject is not valid utf-8',
    ]);
  });

  it('takes a signed _input_charset over the header', () => {
    const body = signedBody([{ name: '_input_charset', value: 'gbk' }, ...chinese], 'gbk');
    const result = verifyNotification(body, { ...md5, contentType: MALFORMED_CONTENT_TYPE });
    expect(result.ok).toBe(true);
    expect(result.explanation.charsetSource).toBe('_input_charset');
    expect(result.params.find((p) => p.name === 'subject')?.value).toBe('测试商品');
  });

  it('accepts raw bytes as well as a string', () => {
    const bytes = Buffer.from(signedBody(chinese, 'gbk'), 'latin1');
    expect(verifyNotification(new Uint8Array(bytes), { ...md5, defaultCharset: 'gbk' }).ok).toBe(true);
  });
});

describe('verifyNotification (RSA)', () => {
  const current = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const previous = generateKeyPairSync('rsa', { modulusLength: 1024 });
  const publicPem = (pair: typeof current) =>
    pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const rsa: VerificationOptions = {
    signType: 'RSA',
    alipayPublicKeyPem: [publicPem(current), publicPem(previous)],
    defaultCharset: 'utf-8',
    source: 'notify',
  };
  const privatePem = (pair: typeof current, type: 'pkcs1' | 'pkcs8') =>
    pair.privateKey.export({ format: 'pem', type }).toString();

  it('verifies with Alipay’s public key, and reports the matching one of a rotation', () => {
    const body = signedBody(notification, 'utf-8', {
      signType: 'RSA',
      privateKey: privatePem(previous, 'pkcs1'),
    });
    const result = verifyNotification(body, rsa);
    expect(result.ok).toBe(true);
    expect(result.explanation.matchedKeyIndex).toBe(1);
    expect(result.explanation.signedString).toBe(result.explanation.preSign);
  });

  it('verifies a GBK notification signed with a PKCS#8 key', () => {
    const chinese = list({ notify_id: '1', subject: '测试' });
    const body = signedBody(chinese, 'gbk', { signType: 'RSA', privateKey: privatePem(current, 'pkcs8') });
    expect(verifyNotification(body, { ...rsa, defaultCharset: 'gbk' }).ok).toBe(true);
  });

  it('fails with the wrong key', () => {
    const stranger = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const body = signedBody(notification, 'utf-8', { signType: 'RSA', privateKey: stranger.privateKey });
    const result = verifyNotification(body, rsa);
    expect(result.reason).toBe('SIGNATURE_MISMATCH');
    expect(result.explanation.hints[0]).toContain("Alipay's MAPI public key");
  });

  it('explains an unescaped + in the base64 sign', () => {
    let body = '';
    for (let i = 0; !body.includes('%2B'); i++) {
      const params = list({ notify_id: String(i), trade_status: 'TRADE_SUCCESS' });
      body = signedBody(params, 'utf-8', { signType: 'RSA', privateKey: current.privateKey });
    }
    const broken = body.replace(/%2B/g, '+');
    const result = verifyNotification(broken, rsa);
    expect(result.reason).toBe('MALFORMED_SIGNATURE');
    expect(result.explanation.summary).toContain('a "+" of the base64 was read as a space');
  });
});

describe('verifyNotification refusals', () => {
  const sign = md5Hex('notify_id=1');

  it.each([
    ['', 'EMPTY_INPUT'],
    ['&&&', 'EMPTY_INPUT'],
    [`notify_id=1&notify_id=2&sign=${sign}&sign_type=MD5`, 'DUPLICATE_PARAMETER'],
    [`notify_id=1&sign=${sign}&sign=${sign}&sign_type=MD5`, 'DUPLICATE_PARAMETER'],
    [`notify_id=1&sign=${sign}&sign_type=MD5&sign_type=RSA`, 'DUPLICATE_PARAMETER'],
    [`body=&notify_id=1&body=x&sign=${sign}&sign_type=MD5`, 'DUPLICATE_PARAMETER'],
    [`body=&notify_id=1&body=&sign=${sign}&sign_type=MD5`, 'DUPLICATE_PARAMETER'],
    ['notify_id=1&sign_type=MD5', 'MISSING_SIGN'],
    ['notify_id=1&sign=&sign_type=MD5', 'MISSING_SIGN'],
    [`notify_id=1&sign=${sign}`, 'MISSING_SIGN_TYPE'],
    [`notify_id=1&sign=${sign}&sign_type=DSA`, 'UNSUPPORTED_SIGN_TYPE'],
    [`notify_id=1&sign=${sign}&sign_type=md5`, 'UNSUPPORTED_SIGN_TYPE'],
    [`notify_id=1&sign=${sign}&sign_type=RSA`, 'SIGN_TYPE_MISMATCH'],
    [`notify_id=1&sign=${sign.toUpperCase()}&sign_type=MD5`, 'MALFORMED_SIGNATURE'],
    [`notify_id=2&sign=${sign}&sign_type=MD5`, 'SIGNATURE_MISMATCH'],
  ])('%j → %s', (raw, reason) => {
    const result = verifyNotification(raw, md5);
    expect(result.ok).toBe(false);
    expect(result.reason).toBe(reason);
    expect(result.explanation.outcome).toBe(reason);
  });

  it('refuses to verify without a usable key', () => {
    const raw = `notify_id=1&sign=${sign}&sign_type=MD5`;
    expect(verifyNotification(raw, { ...md5, md5Keys: [] }).reason).toBe('NO_USABLE_KEY');
    expect(verifyNotification(raw, { ...md5, md5Keys: [''] }).reason).toBe('NO_USABLE_KEY');
    expect(verifyNotification(raw.replace('MD5', 'RSA'), { ...md5, signType: 'RSA' }).reason).toBe(
      'NO_USABLE_KEY',
    );
  });

  it('names the duplicated parameters', () => {
    const result = verifyNotification(`a=1&a=2&b=1&b=1&sign=${sign}&sign_type=MD5`, md5);
    expect(result.explanation.duplicateNames).toEqual(['a', 'b']);
    expect(result.explanation.summary).toBe('parameters sent more than once: a, b');
  });
});

describe('verifyNotification properties', () => {
  const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,15}$/).filter((n) => n !== 'sign' && n !== 'sign_type');
  const value = fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1 }),
    fc.constantFrom('测试商品', 'a&b=c', '1+1', '100%', '%2F', ' ', '中文 & =+%', '7018-test-3 CNY'),
  );

  it('verifies any parameter set it signed, in both charsets, and gives back the text', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(name, value), { selector: ([n]) => n, minLength: 1, maxLength: 10 }),
        fc.constantFrom('utf-8' as const, 'gbk' as const),
        (entries, charset) => {
          const params = entries.map(([n, v]) => ({ name: n, value: v }));
          const signed = signParams(params, charset, { signType: 'MD5', md5Key: KEY });
          if (!signed.ok) return; // text GBK cannot carry
          const body = encodeForm(signed.value.params, charset);
          if (!body.ok) return;
          const result = verifyNotification(body.value, { ...md5, defaultCharset: charset });
          expect(result.reason).toBe('VERIFIED');
          expect(result.params).toEqual(signed.value.params);
        },
      ),
    );
  });

  it('never throws, and always explains, whatever the bytes and headers', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.string({ maxLength: 200 })),
        fc.option(fc.string(), { nil: undefined }),
        fc.constantFrom('MD5' as const, 'RSA' as const),
        fc.constantFrom('notify' as const, 'return' as const),
        (raw, contentType, signType, source) => {
          const result = verifyNotification(raw, {
            signType,
            md5Keys: [KEY],
            alipayPublicKeyPem: 'not a key',
            defaultCharset: 'gbk',
            contentType,
            source,
          });
          expect(typeof result.explanation.summary).toBe('string');
          expect(result.explanation.outcome).toBe(result.reason);
        },
      ),
    );
  });
});
