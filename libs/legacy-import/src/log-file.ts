import { decodeBytes, decodesCleanly, parseBeijingTime, type Charset } from '@ledger/alipay-protocol';

/**
 * One `logResult` call of the PHP kit: the `执行日期：yyyyMMddHHmmss` line it writes first (the server's clock,
 * Beijing time), then the text it was given, which may span lines.
 */
export interface LogEntry {
  /** The 1-based line of the date line in the file. */
  line: number;
  /** The logged date as an instant; undefined when the date line's digits are not a real time. */
  loggedAt?: Date;
  /** The logged text, without the newline `logResult` appends. */
  text: string;
}

/** What a log file holds: its charset (detected), its entries, and the text before the first date line. */
export interface LogFile {
  charset: Charset;
  /** Every character is ASCII: the charset says nothing then. */
  ascii: boolean;
  entries: LogEntry[];
  /** Lines before the first date line (a file cut at its start, or not a kit's log at all). */
  leadingLines: number;
}

// `执行日期：` in the kit, with a full-width colon; an ASCII colon or a space is accepted too, as copies of the
// kit spell it.
const DATE_LINE = /^执行日期[：:]\s*([0-9]{14})\s*$/;

/**
 * UTF-8 when the bytes decode as UTF-8 without loss, else GBK: the kit writes the bytes PHP holds, in the
 * charset of the site (and of the notifications it received). GBK text that is also valid UTF-8 is rare
 * enough for Chinese text that the order of the test does not matter in practice.
 */
export function detectLogCharset(bytes: Uint8Array): { charset: Charset; ascii: boolean } {
  let ascii = true;
  for (const byte of bytes) {
    if (byte >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return { charset: 'utf-8', ascii };
  return { charset: decodesCleanly(bytes, 'utf-8') ? 'utf-8' : 'gbk', ascii };
}

/** `yyyyMMddHHmmss`, Beijing time, as an instant. */
export function parseLogDate(digits: string): Date | undefined {
  const text = `${digits.slice(0, 4)}-${digits.slice(4, 6)}-${digits.slice(6, 8)} ${digits.slice(8, 10)}:${digits.slice(10, 12)}:${digits.slice(12, 14)}`;
  const parsed = parseBeijingTime(text);
  return parsed.ok ? parsed.value : undefined;
}

/** Splits a log file into its entries; linear in its size. */
export function readLogFile(bytes: Uint8Array): LogFile {
  const { charset, ascii } = detectLogCharset(bytes);
  const text = decodeBytes(bytes, charset).replace(/^\uFEFF/, '');
  const lines = text.split(/\r?\n/);
  const entries: LogEntry[] = [];
  let current: { line: number; loggedAt?: Date; lines: string[] } | undefined;
  let leadingLines = 0;
  const close = (): void => {
    if (current === undefined) return;
    entries.push({
      line: current.line,
      ...(current.loggedAt === undefined ? {} : { loggedAt: current.loggedAt }),
      text: current.lines.join('\n'),
    });
  };
  for (let index = 0; index < lines.length; index++) {
    const match = DATE_LINE.exec(lines[index]);
    if (match !== null) {
      close();
      const loggedAt = parseLogDate(match[1]);
      current = { line: index + 1, ...(loggedAt === undefined ? {} : { loggedAt }), lines: [] };
    } else if (current !== undefined) {
      current.lines.push(lines[index]);
    } else if (lines[index] !== '') {
      leadingLines += 1;
    }
  }
  if (current !== undefined) {
    // logResult ends each entry with "\n": the file's last newline leaves one empty line behind.
    if (current.lines.length > 0 && current.lines[current.lines.length - 1] === '') current.lines.pop();
    close();
  }
  return { charset, ascii, entries, leadingLines };
}
