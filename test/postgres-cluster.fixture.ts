import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { chown } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '@ledger/testing';

const run = promisify(execFile);
const INSTALLED = '/usr/lib/postgresql';

/** The newest installed server's binaries, or why there are none to use. */
function serverBinaries(): { bin: string } | { missing: string } {
  const versions = existsSync(INSTALLED)
    ? readdirSync(INSTALLED)
        .filter((version) => existsSync(join(INSTALLED, version, 'bin', 'pg_ctl')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) return { missing: `no PostgreSQL server binaries in ${INSTALLED}/*/bin` };
  return { bin: join(INSTALLED, versions[0], 'bin') };
}

/** Why a private cluster cannot be made here, or undefined when it can. */
export function privateClusterUnavailable(): string | undefined {
  const binaries = serverBinaries();
  return 'missing' in binaries ? binaries.missing : undefined;
}

/**
 * A PostgreSQL cluster of the test's own, in a temporary directory on a free port, that the test may stop
 * and restart at will (the shared server is never touched). initdb refuses to run as root: then every
 * server command runs as the `postgres` user, on a directory it owns.
 */
export class PrivateCluster {
  private constructor(
    private readonly bin: string,
    readonly dir: string,
    readonly port: number,
    private readonly asUser: string[],
  ) {}

  static async create(): Promise<PrivateCluster> {
    const binaries = serverBinaries();
    if ('missing' in binaries) throw new Error(binaries.missing);
    const dir = mkdtempSync(join(tmpdir(), 'ledger-restart-'));
    const asUser: string[] = [];
    if (process.getuid?.() === 0) {
      const { stdout: uid } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      await chown(dir, Number(uid), Number(gid));
      asUser.push('runuser', '-u', 'postgres', '--');
    }
    const cluster = new PrivateCluster(binaries.bin, dir, await freePort(), asUser);
    await cluster.command('initdb', [
      '-D',
      cluster.data,
      '-A',
      'trust',
      '-U',
      'postgres',
      '--no-sync',
      '-E',
      'UTF8',
    ]);
    await cluster.command('pg_ctl', [
      '-D',
      cluster.data,
      '-l',
      join(dir, 'server.log'),
      '-o',
      `-p ${cluster.port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50`,
      '-w',
      'start',
    ]);
    return cluster;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private get data(): string {
    return join(this.dir, 'data');
  }

  /** A fast restart (every session ended at once, as an operator's restart does); resolves once it accepts connections again. */
  async restart(): Promise<void> {
    // With its log file, or the new server would write to (and hold open) this command's output.
    await this.command('pg_ctl', [
      '-D',
      this.data,
      '-l',
      join(this.dir, 'server.log'),
      '-m',
      'fast',
      '-w',
      'restart',
    ]);
  }

  async destroy(): Promise<void> {
    await this.command('pg_ctl', ['-D', this.data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async command(name: string, args: string[]): Promise<void> {
    const program = join(this.bin, name);
    const [file, ...rest] =
      this.asUser.length === 0 ? [program, ...args] : [...this.asUser, program, ...args];
    await run(file, rest, { cwd: this.dir });
  }
}
