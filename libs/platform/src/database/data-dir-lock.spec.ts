import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataDirInUseError, LOCK_FILE_NAME, lockDataDir } from './data-dir-lock';

describe('the data directory lock', () => {
  let dataDir: string;
  let lockPath: string;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-lock-'));
    lockPath = join(dataDir, LOCK_FILE_NAME);
  });

  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  const writeLock = (owner: object | string) =>
    writeFileSync(lockPath, typeof owner === 'string' ? owner : JSON.stringify(owner));

  it('is taken by writing our pid, and released by removing the file', () => {
    const lock = lockDataDir(dataDir);
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
    expect(existsSync(lockPath)).toBe(false);
  });

  it('refuses a second taker while held, even in the same process, and admits one after release', () => {
    const lock = lockDataDir(dataDir);
    expect(() => lockDataDir(dataDir)).toThrow(DataDirInUseError);
    expect(() => lockDataDir(dataDir)).toThrow(`already open in process ${process.pid}`);
    lock.release();
    lockDataDir(dataDir).release();
  });

  it('refuses a lock held by another live process', () => {
    writeLock({ pid: process.ppid, token: 'parent' });
    expect(() => lockDataDir(dataDir)).toThrow(`already open in process ${process.ppid}`);
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ token: 'parent' });
  });

  it('takes over a lock left by a process that is gone', () => {
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    writeLock({ pid: gone, token: 'gone' });
    const lock = lockDataDir(dataDir);
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ pid: process.pid });
    lock.release();
  });

  it('takes over a lock naming our own pid that this process never took (a restarted container)', () => {
    writeLock({ pid: process.pid, token: 'previous run' });
    lockDataDir(dataDir).release();
  });

  (existsSync('/proc/self/stat') ? it : it.skip)(
    'takes over a lock whose pid now belongs to a process started at another time',
    () => {
      writeLock({ pid: process.ppid, processStart: '1', token: 'recycled pid' });
      lockDataDir(dataDir).release();
    },
  );

  it('takes over a lock file left empty by a process killed while writing it', () => {
    writeLock('');
    lockDataDir(dataDir).release();
  });

  it('leaves in place, on release, a lock that is no longer ours', () => {
    const lock = lockDataDir(dataDir);
    writeLock({ pid: process.ppid, token: 'someone else' });
    lock.release();
    expect(JSON.parse(readFileSync(lockPath, 'utf8'))).toMatchObject({ token: 'someone else' });
  });
});
