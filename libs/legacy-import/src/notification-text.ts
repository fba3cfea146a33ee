import type { TextParam } from '@ledger/alipay-protocol';

/**
 * How the PHP integration wrote a notification into its log: `createLinkstring($_POST)` (`k=v&…`, values as
 * they are), `createLinkstringUrlencode($_POST)` (values through PHP's `urlencode`), `print_r($_POST, true)`,
 * `var_export($_POST, true)` or `json_encode($_POST)`.
 */
export type NotificationFormat = 'linkstring' | 'linkstring_urlencoded' | 'print_r' | 'var_export' | 'json';

/**
 * One way to read the logged text. A form body is rebuilt from `params` in the log's charset; an urlencoded
 * linkstring is already one, kept as it was logged (`body`).
 */
export type NotificationCandidate =
  | { format: Exclude<NotificationFormat, 'linkstring_urlencoded'>; params: TextParam[] }
  | { format: 'linkstring_urlencoded'; body: string };

/**
 * The readings of a logged text, most likely first: a `createLinkstring` text can be ambiguous (a value
 * holding `&name=` reads as two parameters; `+` is a space only when urlencoded), and only the signature
 * says which reading Alipay signed. `skipped` for a text that is not a notification (other debug output).
 */
export type NotificationTextReading =
  | { kind: 'notification'; candidates: NotificationCandidate[] }
  | { kind: 'skipped'; message: string }
  | { kind: 'malformed'; format: NotificationFormat; message: string };

/** The parameters of Alipay's notifications (docs/alipay-protocol.md), used to split an ambiguous linkstring. */
const KNOWN_NAMES: ReadonlySet<string> = new Set([
  '_input_charset',
  'batch_no',
  'body',
  'business_scene',
  'buyer_actions',
  'buyer_email',
  'buyer_id',
  'charset',
  'discount',
  'error_code',
  'exterface',
  'extra_common_param',
  'gmt_close',
  'gmt_create',
  'gmt_logistics_modify',
  'gmt_payment',
  'gmt_refund',
  'gmt_send_goods',
  'is_success',
  'is_total_fee_adjust',
  'logistics_fee',
  'logistics_payment',
  'logistics_type',
  'notify_id',
  'notify_time',
  'notify_type',
  'out_channel_amount',
  'out_channel_inst',
  'out_channel_type',
  'out_trade_no',
  'payment_type',
  'price',
  'quantity',
  'receive_address',
  'receive_mobile',
  'receive_name',
  'receive_phone',
  'receive_zip',
  'refund_status',
  'result_details',
  'seller_actions',
  'seller_email',
  'seller_id',
  'sign',
  'sign_type',
  'subject',
  'success_num',
  'total_fee',
  'trade_no',
  'trade_status',
  'use_coupon',
]);

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// What PHP's urlencode writes: letters, digits, `-_.`, `%XX` and `+` for a space.
const URLENCODED = /^(?:[A-Za-z0-9_.\-+]|%[0-9A-Fa-f]{2})*$/;
// The older kits log `responseTxt=…\n notify_url_log:isSign=true,` before the linkstring.
const KIT_PREFIX = /notify_url_log:isSign=(?:true|false),/;

function isNotification(params: readonly TextParam[]): boolean {
  return params.some((p) => p.name === 'notify_id') && params.some((p) => p.name === 'sign');
}

/** Splits `k=v&…` where `&` starts a new pair only before a name that `starts` accepts. */
function splitLinkstring(text: string, starts: (name: string) => boolean): TextParam[] {
  const params: TextParam[] = [];
  for (const segment of text.split('&')) {
    const equals = segment.indexOf('=');
    const name = equals === -1 ? '' : segment.slice(0, equals);
    if (equals > 0 && starts(name)) {
      params.push({ name, value: segment.slice(equals + 1) });
    } else if (params.length > 0) {
      const last = params[params.length - 1];
      params[params.length - 1] = { name: last.name, value: `${last.value}&${segment}` };
    } else if (segment !== '') {
      params.push({ name: segment, value: '' });
    }
  }
  return params;
}

function sameParams(a: readonly TextParam[], b: readonly TextParam[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i].name && p.value === b[i].value);
}

function readLinkstring(text: string): NotificationTextReading {
  const byName = splitLinkstring(text, (name) => NAME.test(name));
  if (!isNotification(byName)) {
    return { kind: 'skipped', message: 'no notify_id and sign: not a logged notification' };
  }
  const candidates: NotificationCandidate[] = [];
  if (byName.every((p) => URLENCODED.test(p.value))) {
    candidates.push({ format: 'linkstring_urlencoded', body: text });
  }
  candidates.push({ format: 'linkstring', params: byName });
  const byKnownName = splitLinkstring(text, (name) => KNOWN_NAMES.has(name));
  if (!sameParams(byName, byKnownName)) candidates.push({ format: 'linkstring', params: byKnownName });
  return { kind: 'notification', candidates };
}

function readJson(text: string): NotificationTextReading {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { kind: 'malformed', format: 'json', message: (error as Error).message };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { kind: 'malformed', format: 'json', message: 'not a JSON object' };
  }
  const params: TextParam[] = [];
  for (const [name, item] of Object.entries(value)) {
    if (typeof item !== 'string' && typeof item !== 'number') {
      return { kind: 'malformed', format: 'json', message: `${name}: not a string` };
    }
    params.push({ name, value: String(item) });
  }
  return isNotification(params)
    ? { kind: 'notification', candidates: [{ format: 'json', params }] }
    : { kind: 'skipped', message: 'no notify_id and sign: not a logged notification' };
}

// print_r: `Array\n(\n    [name] => value\n …)\n`; a value runs to the next `    [name] => ` line. `s`: a
// value's CR, U+2028 or U+2029 is text like any other, where `.` alone would stop at it.
const PRINT_R_ITEM = /^ {4}\[([^\]]*)\] => ?(.*)$/s;

function readPrintR(text: string): NotificationTextReading {
  const lines = text.split('\n');
  let end = lines.length - 1;
  while (end > 0 && lines[end].trim() === '') end -= 1;
  if (lines[1]?.trim() !== '(' || lines[end].trim() !== ')') {
    return { kind: 'malformed', format: 'print_r', message: 'print_r output must be Array ( … )' };
  }
  const params: TextParam[] = [];
  for (let index = 2; index < end; index++) {
    const match = PRINT_R_ITEM.exec(lines[index]);
    if (match !== null) {
      params.push({ name: match[1], value: match[2] });
    } else if (params.length > 0) {
      const last = params[params.length - 1];
      params[params.length - 1] = { name: last.name, value: `${last.value}\n${lines[index]}` };
    } else {
      return { kind: 'malformed', format: 'print_r', message: `line ${index + 1} is not [name] => value` };
    }
  }
  return isNotification(params)
    ? { kind: 'notification', candidates: [{ format: 'print_r', params }] }
    : { kind: 'skipped', message: 'no notify_id and sign: not a logged notification' };
}

/** var_export: `array (\n  'name' => 'value',\n …)`, strings single-quoted with `\\` and `\'` escaped. */
function readVarExport(text: string): NotificationTextReading {
  const malformed = (message: string): NotificationTextReading => ({
    kind: 'malformed',
    format: 'var_export',
    message,
  });
  let at = text.indexOf('(') + 1;
  const params: TextParam[] = [];
  const skipSpace = (): void => {
    while (at < text.length && /\s/.test(text[at])) at += 1;
  };
  const readScalar = (): string | undefined => {
    skipSpace();
    if (text[at] === "'") {
      let out = '';
      at += 1;
      while (at < text.length && text[at] !== "'") {
        if (text[at] === '\\' && (text[at + 1] === "'" || text[at + 1] === '\\')) at += 1;
        out += text[at];
        at += 1;
      }
      if (at >= text.length) return undefined;
      at += 1;
      return out;
    }
    const match = /^-?[0-9]+(?:\.[0-9]+)?/.exec(text.slice(at, at + 64));
    if (match === null) return undefined;
    at += match[0].length;
    return match[0];
  };
  for (;;) {
    skipSpace();
    if (text[at] === ')') break;
    const name = readScalar();
    if (name === undefined) return malformed(`a quoted name was expected at character ${at}`);
    skipSpace();
    if (!text.startsWith('=>', at)) return malformed(`=> was expected at character ${at}`);
    at += 2;
    const value = readScalar();
    if (value === undefined) return malformed(`a quoted value was expected at character ${at}`);
    params.push({ name, value });
    skipSpace();
    if (text[at] === ',') at += 1;
    else if (text[at] !== ')') return malformed(`, or ) was expected at character ${at}`);
  }
  return isNotification(params)
    ? { kind: 'notification', candidates: [{ format: 'var_export', params }] }
    : { kind: 'skipped', message: 'no notify_id and sign: not a logged notification' };
}

/** Reads a logged text as a notification in any of the formats; linear in its length. */
export function readNotificationText(logged: string): NotificationTextReading {
  let text = logged.replace(/\s+$/, '');
  const prefix = KIT_PREFIX.exec(text);
  if (prefix !== null) text = text.slice(prefix.index + prefix[0].length);
  const head = text.trimStart();
  if (head.startsWith('{')) return readJson(head);
  if (/^Array\s*\n\s*\(/.test(head)) return readPrintR(head);
  if (/^array\s*\(/.test(head)) return readVarExport(head);
  return readLinkstring(head);
}
