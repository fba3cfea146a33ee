/**
 * A CSV table as RFC 4180 writes it (`"` quotes, `""` inside quotes, CRLF or LF rows; MySQL's and
 * spreadsheets' exports), with its first row as the header. Linear in its size.
 */
export interface CsvTable {
  header: string[];
  /** Each row with its 1-based line number in the file (of its first line, a quoted field can span lines). */
  rows: { line: number; cells: string[] }[];
}

export class CsvError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/** Parses the text; `delimiter` is `,` unless told (a tab for `SELECT … INTO OUTFILE` defaults). */
export function parseCsv(input: string, delimiter = ','): CsvTable {
  const text = input.replace(/^\uFEFF/, '');
  const records: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let at = 0;
  let quoted = false;
  let fieldStarted = false;
  const endRecord = (): void => {
    cells.push(field);
    if (!(cells.length === 1 && cells[0] === '' && !fieldStarted)) records.push({ line: recordLine, cells });
    cells = [];
    field = '';
    fieldStarted = false;
  };
  while (at < text.length) {
    const char = text[at];
    if (quoted) {
      if (char === '"') {
        if (text[at + 1] === '"') {
          field += '"';
          at += 2;
          continue;
        }
        quoted = false;
        at += 1;
        const next = text[at];
        if (next !== undefined && next !== delimiter && next !== '\n' && next !== '\r') {
          throw new CsvError(line, 'a closing quote must end its field');
        }
        continue;
      }
      if (char === '\n') line += 1;
      field += char;
      at += 1;
      continue;
    }
    if (char === '"' && field === '') {
      quoted = true;
      fieldStarted = true;
      at += 1;
    } else if (char === delimiter) {
      cells.push(field);
      field = '';
      fieldStarted = true;
      at += 1;
    } else if (char === '\r' || char === '\n') {
      endRecord();
      at += char === '\r' && text[at + 1] === '\n' ? 2 : 1;
      line += 1;
      recordLine = line;
    } else {
      field += char;
      fieldStarted = true;
      at += 1;
    }
  }
  if (quoted) throw new CsvError(recordLine, 'a quoted field is not closed');
  if (field !== '' || cells.length > 0 || fieldStarted) endRecord();
  const [header, ...rows] = records;
  if (header === undefined) throw new CsvError(1, 'the file is empty: a header row is expected');
  const names = header.cells.map((name) => name.trim());
  for (const row of rows) {
    if (row.cells.length !== names.length) {
      throw new CsvError(row.line, `${row.cells.length} fields where the header has ${names.length}`);
    }
  }
  return { header: names, rows };
}
