// Child process of durability.int-spec.ts: opens the embedded database in argv[2], then commits probe rows
// from three concurrent writers, one transaction each, and prints each row's id once its COMMIT has been
// acknowledged. SIGTERM stops the writers and closes the database as the ledger does on a graceful stop.
import { openDatabase } from './open-database';

const WRITERS = 3;

async function main(): Promise<void> {
  const [dataDir, round = '0'] = process.argv.slice(2);
  const database = await openDatabase({ dataDir });
  const { dataSource } = database;
  await dataSource.query(
    'CREATE TABLE IF NOT EXISTS durability_probe (id bigint PRIMARY KEY, payload text NOT NULL)',
  );
  await dataSource.query('CREATE TABLE IF NOT EXISTS durability_counter (total bigint NOT NULL)');
  await dataSource.query(
    'INSERT INTO durability_counter SELECT 0 WHERE NOT EXISTS (SELECT FROM durability_counter)',
  );

  let stopping = false;
  process.once('SIGTERM', () => (stopping = true));
  process.stdout.write('ready\n');

  await Promise.all(
    Array.from({ length: WRITERS }, async (_, writer) => {
      for (let n = 0; !stopping; n++) {
        const id = Number(round) * 100_000_000 + writer * 1_000_000 + n;
        await dataSource.transaction(async (manager) => {
          await manager.query('INSERT INTO durability_probe (id, payload) VALUES ($1, repeat($2, 500))', [
            id,
            'x',
          ]);
          await manager.query('UPDATE durability_counter SET total = total + 1');
        });
        // Pipes are written synchronously on Linux: the id is out before the next transaction starts.
        process.stdout.write(`${id}\n`);
      }
    }),
  );
  await database.close();
  process.stdout.write('closed\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
