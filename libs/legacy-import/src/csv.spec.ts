import fc from 'fast-check';
import { CsvError, parseCsv } from './csv';

function quote(cell: string): string {
  return /[",\r\n]/.test(cell) || cell === '' ? `"${cell.replace(/"/g, '""')}"` : cell;
}

describe('parseCsv', () => {
  it('reads back what RFC 4180 writes, quotes, commas and line breaks included', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', '年', ',', '"', '\n', '\r\n', ' ', '0') });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.array(cell, { minLength: 5, maxLength: 5 })),
        (width, rows) => {
          const header = Array.from({ length: width }, (_, i) => `c${i}`);
          const body = rows.map((row) => row.slice(0, width));
          const text = [header, ...body].map((row) => row.map(quote).join(',')).join('\r\n');
          const table = parseCsv(text);
          expect(table.header).toEqual(header);
          expect(table.rows.map((row) => row.cells)).toEqual(body);
        },
      ),
    );
  });

  it('numbers rows by the line they start on, and names the line of a broken one', () => {
    const table = parseCsv('id,subject\nA,"two\nlines"\nB,x\n');
    expect(table.rows.map((row) => row.line)).toEqual([2, 4]);
    expect(() => parseCsv('id,status\nA,8,extra')).toThrow(
      new CsvError(2, '3 fields where the header has 2'),
    );
    expect(() => parseCsv('id\n"open')).toThrow(/line 2: a quoted field is not closed/);
    expect(() => parseCsv('')).toThrow(/header row is expected/);
  });

  it('takes another delimiter, and a byte order mark before the header', () => {
    expect(parseCsv('\uFEFFid\tstatus\nA\t8', '\t')).toEqual({
      header: ['id', 'status'],
      rows: [{ line: 2, cells: ['A', '8'] }],
    });
  });
});
