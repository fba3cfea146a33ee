import { LEDGER_MIGRATIONS } from '.';

describe('the migration list', () => {
  const names = LEDGER_MIGRATIONS.map((migration) => new migration().name ?? migration.name);

  it('names each migration once, with the timestamp TypeORM orders them by', () => {
    expect(new Set(names).size).toBe(names.length);
    for (const name of names) expect(name).toMatch(/^[A-Za-z]+\d{13}$/);
  });

  it('lists the migrations in the order of their timestamps, which is the order they are applied in', () => {
    const timestamps = names.map((name) => Number(/\d{13}$/.exec(name)![0]));
    expect(timestamps).toEqual([...timestamps].sort((a, b) => a - b));
  });
});
