import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeOnEmbedded } from '@ledger/testing';
import { LOCK_FILE_NAME } from './data-dir-lock';
import { openDatabase } from './open-database';

// Each round starts a process that compiles TypeScript and opens PGlite; the machine may be slow.
jest.setTimeout(300_000);

const ROOT = join(__dirname, '../../../..');
const WRITER = join(__dirname, 'durability-writer.fixture.ts');
const running = new Set<ChildProcess>();

/** A writer child and the ids whose commits it has acknowledged so far. */
function startWriter(dataDir: string, round: number) {
  const child = spawn(process.execPath, ['-r', '@swc-node/register', WRITER, dataDir, String(round)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const acknowledged: number[] = [];
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  const waiters: Array<{ enough: () => boolean; resolve: () => void }> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    const text = partial + chunk.toString();
    const complete = text.split('\n');
    partial = complete.pop()!;
    for (const line of complete) {
      lines.push(line);
      if (/^\d+$/.test(line)) acknowledged.push(Number(line));
    }
    for (const waiter of waiters.splice(0)) {
      if (waiter.enough()) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const until = (enough: () => boolean) =>
    Promise.race([
      new Promise<void>((resolve) => (enough() ? resolve() : waiters.push({ enough, resolve }))),
      exited.then(({ code }) => {
        throw new Error(`writer exited early (code ${code}): ${stderr}`);
      }),
    ]);
  return { child, acknowledged, lines, exited, until, stderr: () => stderr };
}

async function storedState(dataDir: string) {
  const database = await openDatabase({ dataDir });
  try {
    const rows: Array<{ id: string }> = await database.dataSource.query('SELECT id FROM durability_probe');
    const [{ total }]: Array<{ total: string }> = await database.dataSource.query(
      'SELECT total FROM durability_counter',
    );
    return { ids: new Set(rows.map((row) => Number(row.id))), total: Number(total) };
  } finally {
    await database.close();
  }
}

describeOnEmbedded('embedded database durability', () => {
  let dataDir: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-durability-'));
  });

  afterEach(() => {
    for (const child of running) child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps every acknowledged commit through repeated kill -9', async () => {
    const acknowledged: number[] = [];
    for (let round = 0; round < 3; round++) {
      const writer = startWriter(dataDir, round);
      await writer.until(() => writer.acknowledged.length >= 300);
      writer.child.kill('SIGKILL');
      expect(await writer.exited).toEqual({ code: null, signal: 'SIGKILL' });
      acknowledged.push(...writer.acknowledged);
      // The killed process left its lock behind; reopening must see that its owner is gone.
      expect(existsSync(join(dataDir, LOCK_FILE_NAME))).toBe(true);

      const stored = await storedState(dataDir);
      const lost = acknowledged.filter((id) => !stored.ids.has(id));
      expect(lost).toEqual([]);
      // Each transaction wrote a row and bumped the counter: both or neither survived.
      expect(stored.total).toBe(stored.ids.size);
    }
  });

  it('keeps every acknowledged commit through a graceful stop, and releases the directory', async () => {
    const writer = startWriter(dataDir, 0);
    await writer.until(() => writer.acknowledged.length >= 300);
    writer.child.kill('SIGTERM');
    expect(await writer.exited).toEqual({ code: 0, signal: null });
    expect(writer.lines.at(-1)).toBe('closed');
    expect(existsSync(join(dataDir, LOCK_FILE_NAME))).toBe(false);

    const stored = await storedState(dataDir);
    expect(writer.acknowledged.filter((id) => !stored.ids.has(id))).toEqual([]);
    expect(stored.ids.size).toBe(writer.acknowledged.length); // nothing committed without being acknowledged
    expect(stored.total).toBe(stored.ids.size);
  });

  it('refuses a second process on a data directory in use', async () => {
    const writer = startWriter(dataDir, 0);
    await writer.until(() => writer.lines.includes('ready'));
    await expect(openDatabase({ dataDir })).rejects.toThrow(`is already open in process ${writer.child.pid}`);
    writer.child.kill('SIGTERM');
    expect(await writer.exited).toEqual({ code: 0, signal: null });
  });

  it('takes over a lock whose process is gone', async () => {
    writeFileSync(join(dataDir, LOCK_FILE_NAME), JSON.stringify({ pid: await deadPid(), token: 'gone' }));
    const database = await openDatabase({ dataDir });
    await database.close();
    expect(existsSync(join(dataDir, LOCK_FILE_NAME))).toBe(false);
  });
});

function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  return new Promise((resolve) => child.once('exit', () => resolve(child.pid!)));
}
