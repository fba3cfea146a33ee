import { encodeText, formatBeijingTime, type Charset, type TextParam } from '@ledger/alipay-protocol';

// What the PHP integration writes, byte for byte, so that tests and benchmarks can produce its logs:
// the kit's `createLinkstring`, `createLinkstringUrlencode` and `logResult`, PHP's `print_r`, `var_export`
// and `json_encode` of `$_POST`.

/** `createLinkstring`: `k=v&…` in the given order, values as they are. */
export function createLinkstring(params: readonly TextParam[]): string {
  return params.map(({ name, value }) => `${name}=${value}`).join('&');
}

const HEX = '0123456789ABCDEF';

/** PHP's `urlencode` over the value's bytes in `charset`: letters, digits and `-_.` kept, space as `+`. */
export function phpUrlencode(value: string, charset: Charset): string {
  const bytes = encodeText(value, charset);
  if (!bytes.ok) throw new Error(`the value cannot be written in ${charset}`);
  let out = '';
  for (const byte of bytes.value) {
    const char = String.fromCharCode(byte);
    if (/[A-Za-z0-9_.-]/.test(char)) out += char;
    else if (byte === 0x20) out += '+';
    else out += `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return out;
}

/** `createLinkstringUrlencode`: `k=urlencode(v)&…`. */
export function createLinkstringUrlencode(params: readonly TextParam[], charset: Charset): string {
  return params.map(({ name, value }) => `${name}=${phpUrlencode(value, charset)}`).join('&');
}

/** `print_r($_POST, true)`. */
export function printR(params: readonly TextParam[]): string {
  return `Array\n(\n${params.map(({ name, value }) => `    [${name}] => ${value}\n`).join('')})\n`;
}

/** `var_export($_POST, true)`. */
export function varExport(params: readonly TextParam[]): string {
  const quote = (text: string): string => `'${text.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return `array (\n${params.map(({ name, value }) => `  ${quote(name)} => ${quote(value)},\n`).join('')})`;
}

/** `json_encode($_POST)`: PHP escapes `/` and every non-ASCII character by default. */
export function jsonEncode(params: readonly TextParam[]): string {
  const text = JSON.stringify(Object.fromEntries(params.map(({ name, value }) => [name, value])));
  return text
    .replace(/\//g, '\\/')
    .replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `logResult($word)`: the date line in Beijing time, then the text and a newline. */
export function logResult(at: Date, word: string): string {
  const digits = formatBeijingTime(at).replace(/[^0-9]/g, '');
  return `执行日期：${digits}\n${word}\n`;
}
