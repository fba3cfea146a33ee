/**
 * Reads CSV as RFC 4180 defines it, strictly, for the tests of the exports: fields quoted with `"` (a quote
 * inside doubled), records ended by CRLF. A bare LF or CR outside quotes, text after a closing quote or an
 * unclosed quote throws, so that an export that only looks right to a lenient reader fails.
 */
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let i = 0;
  const endField = () => {
    record.push(field);
    field = '';
  };
  while (i < text.length) {
    const char = text[i];
    if (char === '"' && field === '') {
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw new Error(`unclosed quote from offset ${i}`);
        if (text[j] === '"' && text[j + 1] === '"') {
          field += '"';
          j += 2;
        } else if (text[j] === '"') {
          break;
        } else {
          field += text[j];
          j += 1;
        }
      }
      i = j + 1;
      if (i < text.length && text[i] !== ',' && text[i] !== '\r') {
        throw new Error(`text after a closing quote at offset ${i}`);
      }
      continue;
    }
    if (char === ',') {
      endField();
      i += 1;
    } else if (char === '\r') {
      if (text[i + 1] !== '\n') throw new Error(`CR without LF at offset ${i}`);
      endField();
      records.push(record);
      record = [];
      i += 2;
    } else if (char === '\n') {
      throw new Error(`LF without CR at offset ${i}`);
    } else {
      field += char;
      i += 1;
    }
  }
  if (field !== '' || record.length > 0) throw new Error('the last record does not end with CRLF');
  return records;
}

/** The records after the header as objects keyed by the header's names. */
export function csvObjects(records: readonly string[][]): Record<string, string>[] {
  const [header, ...rows] = records;
  return rows.map((row) => {
    if (row.length !== header.length)
      throw new Error(`a record of ${row.length} fields, not ${header.length}`);
    return Object.fromEntries(header.map((name, i) => [name, row[i]]));
  });
}
