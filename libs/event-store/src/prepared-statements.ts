import type { DataSource } from 'typeorm';

/** What the store uses of node-postgres' pool, the one under TypeORM's PostgreSQL driver. */
interface PgPool {
  query<Row>(config: { name: string; text: string; values: unknown[] }): Promise<{ rows: Row[] }>;
}

/**
 * Runs the store's hot statements prepared once per connection (node-postgres' named statements), so that
 * PostgreSQL parses and plans them once per session instead of once per call (docs/event-store.md, "Append
 * cost"). Only where each connection has a session of its own: on the embedded database all connections
 * share PGlite's one session, where a name one connection prepared exists for all and another
 * connection's Parse of it fails, so there, and until the first answer says which database this is, the
 * statements run unnamed through TypeORM as before. Statements outside `names` always do.
 */
export class PreparedStatements {
  /** Whether connections own their sessions; undefined until known. */
  private ownSessions: boolean | undefined;
  private probing: Promise<void> | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly names: ReadonlyMap<string, string>,
  ) {}

  async query<Row>(sql: string, parameters: unknown[]): Promise<Row[]> {
    const name = this.names.get(sql);
    if (name !== undefined && this.ownSessions === undefined) await this.probe();
    const pool = this.ownSessions === true ? this.pool() : undefined;
    if (name === undefined || pool === undefined) return this.dataSource.query<Row[]>(sql, parameters);
    return (await pool.query<Row>({ name, text: sql, values: parameters })).rows;
  }

  private probe(): Promise<void> {
    this.probing ??= this.dataSource
      .query<{ pglite: boolean }[]>(`SELECT strpos(version(), 'PGlite') > 0 AS pglite`)
      .then(
        ([row]) => void (this.ownSessions = !row.pglite),
        // Unknown for now: this call runs unnamed, and the next one asks again.
        () => void (this.probing = undefined),
      );
    return this.probing;
  }

  private pool(): PgPool | undefined {
    const { master } = this.dataSource.driver as { master?: Partial<PgPool> };
    return typeof master?.query === 'function' ? (master as PgPool) : undefined;
  }
}
