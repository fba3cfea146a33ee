/**
 * What a lib needs of a database connection: statements, run inside a transaction when it was handed one.
 * The pool and a transaction's session both are one (TypeORM's `DataSource` and `EntityManager` fit it as
 * they are), so libs name this port and TypeORM stays behind platform, except where its `QueryRunner` is the
 * point: the projector's control connection and the migrations.
 */
export interface DatabaseSession {
  query<T = unknown>(sql: string, parameters?: unknown[]): Promise<T[]>;
}

/** A session that opens transactions: `work` runs in one, committed if it resolves, rolled back if it throws. */
export interface Database extends DatabaseSession {
  transaction<T>(work: (session: DatabaseSession) => Promise<T>): Promise<T>;
}
