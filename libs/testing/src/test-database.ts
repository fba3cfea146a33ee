import { createHash, randomBytes } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type LedgerDatabase, openDatabase, runMigrations } from '@ledger/platform';
import { Client } from 'pg';
import { TEST_MIGRATIONS } from './test-migrations';

/** A fresh, migrated database for one test file; `close()` closes it and throws it away. */
export interface TestDatabase extends LedgerDatabase {
  /** The connection string (PostgreSQL), for a second pool or a child process. */
  readonly url?: string;
  /** The data directory (embedded), for reopening it or handing it to a child process. */
  readonly dataDir?: string;
  /** Closes the database and drops it (PostgreSQL) or removes its directory (embedded). */
  close(): Promise<void>;
}

const DEFAULT_ADMIN_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** `postgres` when the suite runs against the real server (`TEST_DATABASE=postgres`), else `embedded`. */
export function testDatabaseKind(): LedgerDatabase['kind'] {
  return process.env.TEST_DATABASE === 'postgres' ? 'postgres' : 'embedded';
}

/** `describe` on the real server; skipped, under a name saying so, on the embedded database. */
export function describeOnPostgres(name: string, fn: () => void): void {
  if (testDatabaseKind() === 'postgres') describe(name, fn);
  else describe.skip(`${name} [PostgreSQL only: run with TEST_DATABASE=postgres]`, fn);
}

/** The URL of database `dbName` on the test server; refuses a name without "test" in it. */
export function testDatabaseUrlFor(dbName: string): string {
  assertTestDatabaseName(dbName);
  const url = new URL(adminUrl());
  url.pathname = `/${dbName}`;
  return url.toString();
}

/** On the embedded database only: for what PGlite itself does (durability, its socket front). */
export function describeOnEmbedded(name: string, fn: () => void): void {
  if (testDatabaseKind() === 'embedded') describe(name, fn);
  else describe.skip(`${name} [embedded database only: run without TEST_DATABASE]`, fn);
}

/**
 * A fresh database with every migration applied (unless `migrated: false`): on the real server a new
 * `ledger_test_<label>_<random>` database, else an embedded one in a new temporary directory.
 */
export async function createTestDatabase(
  label = 'db',
  options: { migrated?: boolean } = {},
): Promise<TestDatabase> {
  const migrated = options.migrated ?? true;
  return testDatabaseKind() === 'postgres'
    ? createOnPostgres(label, migrated)
    : createEmbedded(label, migrated);
}

async function createOnPostgres(label: string, migrated: boolean): Promise<TestDatabase> {
  const name = `ledger_test_${sanitize(label)}_${randomBytes(4).toString('hex')}`;
  const url = testDatabaseUrlFor(name);
  await asAdmin((admin) => admin.query(`CREATE DATABASE "${name}"`));
  let database: LedgerDatabase | undefined;
  try {
    database = await openDatabase({ databaseUrl: url, dataDir: tmpdir(), applicationName: `test-${label}` });
    if (migrated) await runMigrations(database.dataSource, TEST_MIGRATIONS);
  } catch (error) {
    await database?.close();
    await dropDatabase(name);
    throw error;
  }
  const opened = database;
  return {
    dataSource: opened.dataSource,
    kind: 'postgres',
    url,
    close: once(async () => {
      await opened.close();
      await dropDatabase(name);
    }),
  };
}

async function createEmbedded(label: string, migrated: boolean): Promise<TestDatabase> {
  const dataDir = mkdtempSync(join(tmpdir(), `ledger-test-${sanitize(label)}-`));
  let database: LedgerDatabase | undefined;
  try {
    // Copying a migrated template spares each test file PGlite's initdb (several seconds).
    if (migrated) cpSync(await embeddedTemplate(), dataDir, { recursive: true });
    database = await openDatabase({ dataDir });
    if (migrated) await runMigrations(database.dataSource, TEST_MIGRATIONS);
  } catch (error) {
    await database?.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const opened = database;
  return {
    dataSource: opened.dataSource,
    kind: 'embedded',
    dataDir,
    close: once(async () => {
      await opened.close();
      rmSync(dataDir, { recursive: true, force: true });
    }),
  };
}

let template: Promise<string> | undefined;

const TEMPLATE_PREFIX = 'ledger-test-template-';
const BUILDING_PREFIX = 'ledger-test-building-';
const UNUSED_TEMPLATE_MS = 24 * 60 * 60 * 1000;

/**
 * A migrated embedded database to copy, shared by every test process and named after the migrations' code
 * and the PGlite version, so that a changed migration gets a template of its own. (A per-process template
 * could not be cleaned up: Jest's sandboxed `process` never emits 'exit'.) Templates unused for a day go.
 */
function embeddedTemplate(): Promise<string> {
  template ??= (async () => {
    const dir = join(tmpdir(), `${TEMPLATE_PREFIX}${templateKey()}`);
    if (!existsSync(dir)) {
      removeUnusedTemplates();
      const building = mkdtempSync(join(tmpdir(), BUILDING_PREFIX));
      try {
        const database = await openDatabase({ dataDir: building });
        try {
          await runMigrations(database.dataSource, TEST_MIGRATIONS);
        } finally {
          await database.close();
        }
        renameSync(building, dir); // atomic: a template directory exists only once complete
      } catch (error) {
        rmSync(building, { recursive: true, force: true });
        if (!existsSync(dir)) throw error; // else another process built it first
      }
    }
    const now = new Date();
    utimesSync(dir, now, now);
    return dir;
  })();
  return template;
}

function templateKey(): string {
  const pglitePackage = join(dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
  const { version } = JSON.parse(readFileSync(pglitePackage, 'utf8')) as { version: string };
  const migrations = TEST_MIGRATIONS.map((migration) => migration.toString());
  return createHash('sha256')
    .update([version, ...migrations].join('\n'))
    .digest('hex')
    .slice(0, 16);
}

function removeUnusedTemplates(): void {
  for (const name of readdirSync(tmpdir())) {
    if (!name.startsWith(TEMPLATE_PREFIX) && !name.startsWith(BUILDING_PREFIX)) continue;
    const path = join(tmpdir(), name);
    if (Date.now() - statSync(path).mtimeMs > UNUSED_TEMPLATE_MS)
      rmSync(path, { recursive: true, force: true });
  }
}

async function dropDatabase(name: string): Promise<void> {
  assertTestDatabaseName(name);
  // FORCE ends the sessions still connected (a leaked pool must not keep a test database alive).
  await asAdmin((admin) => admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

async function asAdmin(work: (admin: Client) => Promise<unknown>): Promise<void> {
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await work(admin);
  } finally {
    await admin.end();
  }
}

function adminUrl(): string {
  return process.env.TEST_DATABASE_ADMIN_URL ?? DEFAULT_ADMIN_URL;
}

/** A guard: the helpers create and drop only databases named as tests. */
function assertTestDatabaseName(name: string): void {
  if (!/test/i.test(name)) throw new Error(`refusing to touch database "${name}": its name lacks "test"`);
  if (!/^[a-z0-9_]{1,63}$/.test(name)) throw new Error(`refusing database name "${name}"`);
}

function sanitize(label: string): string {
  return (
    label
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '_')
      .replace(/^_+|_+$/g, '')
      .slice(0, 30) || 'db'
  );
}

function once(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
}
