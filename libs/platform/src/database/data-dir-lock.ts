import { randomUUID } from 'node:crypto';
import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Thrown when the embedded database's data directory is already open in a live process. */
export class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the embedded database in ${dataDir} is already open in process ${pid}; stop that process or point ` +
        `DATA_DIR elsewhere (two processes on one PGlite directory would corrupt it)`,
    );
    this.name = 'DataDirInUseError';
  }
}

interface LockOwner {
  pid: number;
  /** The owner's start time in clock ticks since boot (Linux), to tell a recycled pid from the owner. */
  processStart?: string;
  token: string;
}

export interface DataDirLock {
  readonly path: string;
  /** Removes the lock file if it is still ours. */
  release(): void;
}

export const LOCK_FILE_NAME = 'ledger.lock';

// Locks taken by this process, by lock path. A lock file naming our own pid but absent here was left by an
// earlier process that had the same pid (a container restarts with the same pid every time).
const heldHere = new Map<string, string>();

/**
 * Takes the data directory for this process: a lock file holding our pid, created exclusively. A lock left by
 * a process that is gone (killed, crashed) is taken over; a lock held by a live process is refused.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const path = join(dataDir, LOCK_FILE_NAME);
  const owner: LockOwner = { pid: process.pid, processStart: processStart(process.pid), token: randomUUID() };
  const content = JSON.stringify(owner);

  for (let attempt = 0; attempt < 5; attempt++) {
    if (createExclusively(path, content)) {
      heldHere.set(path, owner.token);
      return { path, release: () => release(path, owner.token) };
    }
    const existing = readOwner(path);
    if (existing === undefined) continue; // released between our create and our read
    if (isAlive(path, existing.owner)) throw new DataDirInUseError(dataDir, existing.owner.pid);
    removeStaleLock(path, existing.raw, dataDir);
  }
  throw new Error(`could not take the lock ${path}: it keeps changing hands`);
}

function createExclusively(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx');
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    writeSync(fd, content);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Two openers may find the same stale lock. Each moves it aside under its own name first (only one rename of
 * a given file succeeds); if what was moved is not the stale content, a racing opener has meanwhile taken
 * the lock, so it is put back and that opener wins.
 */
function removeStaleLock(path: string, staleContent: string, dataDir: string): void {
  const aside = `${path}.stale-${process.pid}-${randomUUID()}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return;
    throw error;
  }
  const moved = readFileSync(aside, 'utf8');
  if (moved !== staleContent) {
    try {
      linkSync(aside, path);
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw error;
    }
    unlinkSync(aside);
    throw new DataDirInUseError(dataDir, parseOwner(moved)?.pid ?? -1);
  }
  unlinkSync(aside);
}

function release(path: string, token: string): void {
  if (heldHere.get(path) !== token) return;
  heldHere.delete(path);
  if (readOwner(path)?.owner.token === token) unlinkSync(path);
}

function readOwner(path: string): { owner: LockOwner; raw: string } | undefined {
  let raw: string;
  try {
    raw = readFileSync(path, 'utf8');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  // An unreadable lock (a process killed between creating and writing it) names no one alive.
  return { owner: parseOwner(raw) ?? { pid: 0, token: '' }, raw };
}

function parseOwner(raw: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(raw) as Partial<LockOwner>;
    if (typeof parsed.pid !== 'number' || typeof parsed.token !== 'string') return undefined;
    return { pid: parsed.pid, processStart: parsed.processStart, token: parsed.token };
  } catch {
    return undefined;
  }
}

function isAlive(path: string, owner: LockOwner): boolean {
  if (owner.pid <= 0) return false;
  if (owner.pid === process.pid) return heldHere.get(path) === owner.token;
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    if (errorCode(error) === 'ESRCH') return false;
  }
  // The pid is in use; it is the owner unless it demonstrably started at another time (a recycled pid).
  const start = processStart(owner.pid);
  return owner.processStart === undefined || start === undefined || start === owner.processStart;
}

/** Field 22 of /proc/<pid>/stat (start time since boot), where procfs exists. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    return stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .at(19);
  } catch {
    return undefined;
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : undefined;
}
