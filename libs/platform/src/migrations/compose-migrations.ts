import type { MigrationInterface } from 'typeorm';

/** A migration class: each lib exports the list of those that create and change its tables. */
export type Migration = new () => MigrationInterface;

/** TypeORM orders migrations by the 13-digit timestamp that ends their name. */
const NAME = /^[A-Za-z]+(\d{13})$/;

/**
 * The schema of an application: every lib's migrations in one list, in the order of their timestamps, which
 * is the order they are applied in (an explicit list, never a glob: globs break under bundling and silently
 * skip files). Refuses a name without its timestamp, a name or a timestamp listed twice: two libs that
 * picked the same timestamp would be applied in an order nobody chose.
 */
export function composeMigrations(...lists: ReadonlyArray<readonly Migration[]>): Migration[] {
  const named = lists.flat().map((migration) => {
    const name = new migration().name ?? migration.name;
    const match = NAME.exec(name);
    if (match === null) throw new Error(`migration ${name} does not end with a 13-digit timestamp`);
    return { migration, name, timestamp: Number(match[1]) };
  });
  const seen = new Map<number, string>();
  for (const { name, timestamp } of named) {
    const other = seen.get(timestamp);
    if (other !== undefined) throw new Error(`migrations ${other} and ${name} share timestamp ${timestamp}`);
    seen.set(timestamp, name);
  }
  return named.sort((a, b) => a.timestamp - b.timestamp).map(({ migration }) => migration);
}
