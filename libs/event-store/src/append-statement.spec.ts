import { groupedAppendWithStatement, type AppendWithParts } from './append-statement';

/** An item as `appendWithParts` builds it: the claim, `appended`, and one write reading it. */
function item(write: string, parameters: unknown[]): AppendWithParts {
  return {
    ctes: [
      ['claim', 'SELECT * FROM event_store_append($1, $2)'],
      ['appended', 'SELECT * FROM claim WHERE next_version IS NOT NULL'],
      ['recorded', write],
    ],
    parameters,
  };
}

const inbox = (stream: string) =>
  item('INSERT INTO inbox (a, b) SELECT $3, $4 FROM appended', [stream, 0, `a-${stream}`, `b-${stream}`]);
const keyOnly = (stream: string) =>
  item('INSERT INTO keys (k) SELECT $3 FROM appended', [stream, 1, `k-${stream}`]);

describe('groupedAppendWithStatement', () => {
  it("moves each item's placeholders past the previous items' and suffixes its names with its place", () => {
    const { sql, parameters } = groupedAppendWithStatement([inbox('s1'), keyOnly('s2')]);
    expect(sql).toBe(
      [
        'WITH claim_0 AS MATERIALIZED (SELECT * FROM event_store_append($1, $2)),',
        'appended_0 AS (SELECT * FROM claim_0 WHERE next_version IS NOT NULL),',
        'recorded_0 AS (INSERT INTO inbox (a, b) SELECT $3, $4 FROM appended_0),',
        'claim_1 AS MATERIALIZED (SELECT * FROM event_store_append($5, $6)),',
        'appended_1 AS (SELECT * FROM claim_1 WHERE next_version IS NOT NULL),',
        'recorded_1 AS (INSERT INTO keys (k) SELECT $7 FROM appended_1)',
        'SELECT 0 AS item, * FROM claim_0',
        'UNION ALL SELECT 1 AS item, * FROM claim_1',
      ].join('\n'),
    );
    expect(parameters).toEqual(['s1', 0, 'a-s1', 'b-s1', 's2', 1, 'k-s2']);
  });

  it('builds a statement per order of shapes, and the same text for the same shapes', () => {
    const first = groupedAppendWithStatement([inbox('s1'), keyOnly('s2')]);
    const swapped = groupedAppendWithStatement([keyOnly('s3'), inbox('s4')]);
    expect(swapped.sql).not.toBe(first.sql);
    expect(swapped.sql).toContain('recorded_0 AS (INSERT INTO keys (k) SELECT $3 FROM appended_0)');
    // Past an item of three parameters, the next one's start at $4.
    expect(swapped.sql).toContain('claim_1 AS MATERIALIZED (SELECT * FROM event_store_append($4, $5))');
    expect(swapped.sql).toContain('recorded_1 AS (INSERT INTO inbox (a, b) SELECT $6, $7 FROM appended_1)');
    expect(swapped.parameters).toEqual(['s3', 1, 'k-s3', 's4', 0, 'a-s4', 'b-s4']);

    const again = groupedAppendWithStatement([inbox('s5'), keyOnly('s6')]);
    expect(again.sql).toBe(first.sql);
    expect(again.parameters).toEqual(['s5', 0, 'a-s5', 'b-s5', 's6', 1, 'k-s6']);
  });

  it('tells apart items whose texts are alike but whose parameters or writes differ', () => {
    const wider = item('INSERT INTO inbox (a, b) SELECT $3, $4 FROM appended', ['s1', 0, 'a', 'b', 'unused']);
    const plain = groupedAppendWithStatement([inbox('s0'), inbox('s1')]);
    const afterWider = groupedAppendWithStatement([wider, inbox('s2')]);
    expect(afterWider.sql).not.toBe(plain.sql);
    expect(afterWider.sql).toContain('claim_1 AS MATERIALIZED (SELECT * FROM event_store_append($6, $7))');

    const otherWrite = groupedAppendWithStatement([
      item('INSERT INTO inbox (a, c) SELECT $3, $4 FROM appended', ['s3', 0, 'a', 'c']),
      inbox('s4'),
    ]);
    expect(otherWrite.sql).toContain(
      'recorded_0 AS (INSERT INTO inbox (a, c) SELECT $3, $4 FROM appended_0)',
    );
  });
});
