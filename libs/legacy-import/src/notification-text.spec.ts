import fc from 'fast-check';
import { decodePairs, parseForm, type Charset, type TextParam } from '@ledger/alipay-protocol';
import { readLogFile } from './log-file';
import { readNotificationText, type NotificationCandidate } from './notification-text';
import {
  createLinkstring,
  createLinkstringUrlencode,
  jsonEncode,
  logResult,
  printR,
  varExport,
} from './php-kit-output';
import { encodeText } from '@ledger/alipay-protocol';

const NOTIFICATION: TextParam[] = [
  { name: 'notify_id', value: 'abc123' },
  { name: 'out_trade_no', value: 'A-1' },
  { name: 'subject', value: '年费 a&b=c+d 100%' },
  { name: 'total_fee', value: '12.30' },
  { name: 'sign', value: 'f00' },
  { name: 'sign_type', value: 'MD5' },
];

function paramsOf(candidate: NotificationCandidate, charset: Charset): TextParam[] {
  if (candidate.format !== 'linkstring_urlencoded') return candidate.params;
  return decodePairs(parseForm(candidate.body).pairs, charset);
}

function candidates(text: string): NotificationCandidate[] {
  const reading = readNotificationText(text);
  if (reading.kind !== 'notification') throw new Error(`not read: ${JSON.stringify(reading)}`);
  return reading.candidates;
}

// Names as PHP's $_POST keys can be; values anything a charset can write (GBK: the BMP's CJK and ASCII).
const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,15}$/);
const text = (charset: Charset) =>
  fc
    .string({
      unit: fc.oneof(
        fc.constantFrom('&', '=', '+', '%', ' ', '\n', "'", '\\', '年', '费'),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
      ),
    })
    .filter((value) => encodeText(value, charset).ok);
const notification = (charset: Charset) =>
  fc
    .uniqueArray(fc.record({ name, value: text(charset) }), { selector: (p) => p.name, maxLength: 12 })
    .map((params) => [
      { name: 'notify_id', value: 'n1' },
      ...params.filter((p) => p.name !== 'notify_id' && p.name !== 'sign'),
      { name: 'sign', value: 's' },
    ]);

describe('reading a logged notification', () => {
  it.each(['utf-8', 'gbk'] as const)('reads createLinkstringUrlencode back exactly (%s)', (charset) => {
    fc.assert(
      fc.property(notification(charset), (params) => {
        const [first] = candidates(createLinkstringUrlencode(params, charset));
        expect(first.format).toBe('linkstring_urlencoded');
        expect(paramsOf(first, charset)).toEqual(params);
      }),
    );
  });

  it('reads a print_r value with a CR, U+2028 or U+2029 in it as one value', () => {
    for (const separator of ['\r', '\u2028', '\u2029']) {
      const params = [
        { name: 'notify_id', value: 'n1' },
        { name: 'subject', value: `a${separator}b` },
        { name: 'sign', value: 's' },
      ];
      expect(candidates(printR(params))).toEqual([{ format: 'print_r', params }]);
    }
  });

  it('reads print_r, var_export and json_encode back exactly', () => {
    fc.assert(
      fc.property(notification('utf-8'), (params) => {
        // print_r cannot tell a value's own "\n    [x] => " from the next item: generated values avoid it.
        fc.pre(params.every((p) => !/\n {4}\[|\n\)|^\s|\s$/.test(p.value)));
        expect(candidates(printR(params))[0]).toEqual({ format: 'print_r', params });
      }),
    );
    fc.assert(
      fc.property(notification('utf-8'), (params) => {
        expect(candidates(varExport(params))[0]).toEqual({ format: 'var_export', params });
        expect(candidates(jsonEncode(params))[0]).toEqual({ format: 'json', params });
      }),
    );
  });

  it('offers every split of a createLinkstring whose values hold & and =, the signature choosing', () => {
    const found = candidates(createLinkstring(NOTIFICATION));
    // `a&b=c+d` reads as a parameter `b` when any name may start a pair; Alipay's names alone give the value back.
    expect(found.map((c) => c.format)).toEqual(['linkstring', 'linkstring']);
    expect(found.map((c) => paramsOf(c, 'utf-8'))).toContainEqual(NOTIFICATION);
  });

  it('offers the literal reading of an urlencoded-looking linkstring, where + may be a plus', () => {
    const params = [
      { name: 'notify_id', value: 'a+b' },
      { name: 'sign', value: 'x' },
    ];
    const found = candidates(createLinkstring(params));
    expect(found[0]).toEqual({ format: 'linkstring_urlencoded', body: 'notify_id=a+b&sign=x' });
    expect(found[1]).toEqual({ format: 'linkstring', params });
  });

  it('takes the linkstring after the older kits’ isSign prefix', () => {
    const logged = `responseTxt=true\n notify_url_log:isSign=true,${createLinkstring(NOTIFICATION)}`;
    expect(candidates(logged).map((c) => paramsOf(c, 'utf-8'))).toContainEqual(NOTIFICATION);
  });

  it('skips debug text that is not a notification and names the format of a broken one', () => {
    expect(readNotificationText('订单处理成功 out_trade_no=A-1').kind).toBe('skipped');
    expect(readNotificationText('{"notify_id": ')).toMatchObject({ kind: 'malformed', format: 'json' });
    expect(readNotificationText("array (\n  'notify_id' => 'x")).toMatchObject({
      kind: 'malformed',
      format: 'var_export',
    });
  });
});

describe('reading a logResult file', () => {
  const at = new Date('2016-11-30T04:05:06Z');

  it.each(['utf-8', 'gbk'] as const)('splits multi-line entries and detects %s', (charset) => {
    const content = logResult(at, printR(NOTIFICATION)) + logResult(at, 'one line') + logResult(at, 'a\n\nb');
    const bytes = encodeText(content, charset);
    if (!bytes.ok) throw new Error('unencodable');
    const file = readLogFile(bytes.value);
    expect(file.charset).toBe(charset);
    expect(file.entries.map((e) => [e.line, e.text])).toEqual([
      [1, printR(NOTIFICATION)],
      [12, 'one line'],
      [14, 'a\n\nb'],
    ]);
    // 12:05:06 in Beijing.
    expect(file.entries[0].loggedAt).toEqual(at);
  });

  it('counts what comes before the first date line instead of guessing', () => {
    const file = readLogFile(Buffer.from(`tail of a cut file\n${logResult(at, 'x')}`));
    expect(file.leadingLines).toBe(1);
    expect(file.entries).toHaveLength(1);
  });
});
