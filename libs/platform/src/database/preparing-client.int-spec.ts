import { createTestDatabase, describeOnPostgres, type TestDatabase } from '@ledger/testing';
import { PREPARE_THRESHOLD } from './preparing-client';

jest.setTimeout(120_000);

// docs/operations.md, "Prepared statements": repeated statements are prepared per connection on
// PostgreSQL, and a failure leaves nothing half-prepared behind. (The embedded database's connections share
// one PGlite session, where names would collide: nothing is prepared there.)
describeOnPostgres('PreparingClient', () => {
  let database: TestDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('preparing');
  });

  afterAll(async () => {
    await database?.close();
  });

  /** Runs `work` on one pooled connection, as a transaction's statements are. */
  async function onOneConnection<T>(
    work: (query: (sql: string, parameters?: unknown[]) => Promise<unknown[]>) => Promise<T>,
  ): Promise<T> {
    const runner = database.dataSource.createQueryRunner();
    await runner.connect();
    try {
      return await work((sql, parameters) => runner.query(sql, parameters) as Promise<unknown[]>);
    } finally {
      await runner.release();
    }
  }

  const prepared = (query: (sql: string) => Promise<unknown[]>) =>
    query(`SELECT name, statement FROM pg_prepared_statements WHERE name LIKE 'ledger_%'`) as Promise<
      { name: string; statement: string }[]
    >;

  it('prepares a statement once it has run the threshold number of times, and answers the same', async () => {
    await onOneConnection(async (query) => {
      const sql = `SELECT $1::int * 2 AS doubled /* preparing-client test */`;
      const answers: unknown[] = [];
      for (let i = 1; i <= PREPARE_THRESHOLD + 2; i += 1) {
        if (i === PREPARE_THRESHOLD)
          expect((await prepared(query)).map((row) => row.statement)).not.toContain(sql);
        answers.push(...(await query(sql, [i])));
      }
      expect(answers).toEqual([1, 2, 3, 4, 5].map((i) => ({ doubled: i * 2 })));
      expect((await prepared(query)).map((row) => row.statement)).toContain(sql);
    });
  });

  it('never prepares statements without parameters', async () => {
    await onOneConnection(async (query) => {
      const sql = `SELECT 42 AS answer /* unparameterised */`;
      for (let i = 0; i < PREPARE_THRESHOLD + 2; i += 1) expect(await query(sql)).toEqual([{ answer: 42 }]);
      expect((await prepared(query)).map((row) => row.statement)).not.toContain(sql);
    });
  });

  it('keeps working after a prepared statement fails, inside a transaction and after it', async () => {
    await onOneConnection(async (query) => {
      const sql = `SELECT 10 / $1::int AS quotient /* failing */`;
      for (let i = 0; i < PREPARE_THRESHOLD; i += 1) await query(sql, [5]);
      await expect(query(sql, [0])).rejects.toMatchObject({ code: '22012' });
      await query('BEGIN');
      await expect(query(sql, [0])).rejects.toMatchObject({ code: '22012' });
      await expect(query(sql, [2])).rejects.toMatchObject({ code: '25P02' });
      await query('ROLLBACK');
      expect(await query(sql, [2])).toEqual([{ quotient: 5 }]);
    });
  });

  it('plans a prepared statement again when the table under it changes', async () => {
    await onOneConnection(async (query) => {
      await query(`CREATE TABLE preparing_swap (id int, label text)`);
      await query(`INSERT INTO preparing_swap VALUES (1, 'old')`);
      const sql = `SELECT label FROM preparing_swap WHERE id = $1`;
      for (let i = 0; i < PREPARE_THRESHOLD + 1; i += 1)
        expect(await query(sql, [1])).toEqual([{ label: 'old' }]);
      // What a projection rebuild does: a shadow table swapped in under the same name.
      await query(`CREATE TABLE preparing_shadow (id int, label text)`);
      await query(`INSERT INTO preparing_shadow VALUES (1, 'new')`);
      await query(`DROP TABLE preparing_swap`);
      await query(`ALTER TABLE preparing_shadow RENAME TO preparing_swap`);
      expect(await query(sql, [1])).toEqual([{ label: 'new' }]);
    });
  });
});
