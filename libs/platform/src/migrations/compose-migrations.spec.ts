import type { MigrationInterface } from 'typeorm';
import { composeMigrations, type Migration } from './compose-migrations';

function migration(name: string): Migration {
  return class implements MigrationInterface {
    name = name;
    async up(): Promise<void> {}
    async down(): Promise<void> {}
  };
}

const names = (list: Migration[]) => list.map((listed) => new listed().name);

describe('composeMigrations', () => {
  it('lists every lib’s migrations in the order of their timestamps, whatever order the libs come in', () => {
    const store = [migration('Store1700000000001'), migration('Store1700000000004')];
    const inbox = [migration('Inbox1700000000002'), migration('InboxMore1700000000003')];
    expect(names(composeMigrations(inbox, store))).toEqual([
      'Store1700000000001',
      'Inbox1700000000002',
      'InboxMore1700000000003',
      'Store1700000000004',
    ]);
  });

  it('refuses two migrations with one timestamp, and a migration listed by two libs', () => {
    const shared = migration('Shared1700000000001');
    expect(() => composeMigrations([shared], [shared])).toThrow('share timestamp 1700000000001');
    expect(() =>
      composeMigrations([migration('Store1700000000001')], [migration('Inbox1700000000001')]),
    ).toThrow('migrations Store1700000000001 and Inbox1700000000001 share timestamp 1700000000001');
  });

  it('refuses a name that does not end with the timestamp TypeORM orders by', () => {
    expect(() => composeMigrations([migration('Store170000000001')])).toThrow('13-digit timestamp');
    expect(() => composeMigrations([migration('1700000000001')])).toThrow('13-digit timestamp');
  });
});
