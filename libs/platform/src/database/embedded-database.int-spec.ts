import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeOnEmbedded } from '@ledger/testing';
import { Client } from 'pg';
import type { PostgresDataSourceOptions } from 'typeorm/driver/postgres/PostgresDataSourceOptions';
import { DataDirInUseError } from './data-dir-lock';
import { type LedgerDatabase, openDatabase } from './open-database';

jest.setTimeout(180_000);

const IDLE_IN_TRANSACTION_TIMEOUT_MS = 1_000;

describeOnEmbedded('the embedded database', () => {
  let dataDir: string;
  let database: LedgerDatabase;
  const clients: Client[] = [];

  function endpoint() {
    const { host, port } = database.dataSource.options as PostgresDataSourceOptions;
    return { host: host!, port: port! };
  }

  /** A connection of its own, outside the pool (as a LISTEN client or a second tool would have). */
  async function separateClient(): Promise<Client> {
    const client = new Client({ ...endpoint(), user: 'postgres', database: 'postgres' });
    client.on('error', () => undefined); // asserted where it matters
    clients.push(client);
    await client.connect();
    return client;
  }

  async function count(where: string): Promise<number> {
    const [{ n }] = await database.dataSource.query(`SELECT count(*)::int AS n FROM probe WHERE ${where}`);
    return n as number;
  }

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-embedded-'));
    database = await openDatabase({ dataDir, idleInTransactionTimeoutMs: IDLE_IN_TRANSACTION_TIMEOUT_MS });
    await database.dataSource.query('CREATE TABLE probe (id integer PRIMARY KEY, note text)');
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.end().catch(() => undefined)));
  });

  afterAll(async () => {
    await database?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('is PostgreSQL to the driver, and says which kind it is', async () => {
    expect(database.kind).toBe('embedded');
    const [{ version }] = await database.dataSource.query('SELECT version()');
    expect(version).toMatch(/^PostgreSQL \d+/);
  });

  it('answers concurrent statements and transactions from every pooled connection, each its own', async () => {
    const work = Array.from({ length: 240 }, async (_, i) => {
      if (i % 4 === 0) {
        await database.dataSource.transaction(async (manager) => {
          await manager.query('INSERT INTO probe (id, note) VALUES ($1, $2)', [1000 + i, `tx ${i}`]);
          const [{ n }] = await manager.query('SELECT count(*)::int AS n FROM probe WHERE id = $1', [
            1000 + i,
          ]);
          expect(n).toBe(1);
        });
      } else if (i % 4 === 1) {
        const rolledBack = database.dataSource.transaction(async (manager) => {
          await manager.query('INSERT INTO probe (id, note) VALUES ($1, $2)', [1000 + i, 'rolled back']);
          throw new Error('roll back');
        });
        await expect(rolledBack).rejects.toThrow('roll back');
      } else {
        // Parameters and results must stay with their own statement (the extended protocol in flight).
        const [{ echoed }] = await database.dataSource.query('SELECT $1::int * 2 AS echoed, $2::text AS t', [
          i,
          `text ${i}`,
        ]);
        expect(echoed).toBe(i * 2);
      }
    });
    await Promise.all(work);
    expect(await count('id >= 1000')).toBe(60);
    expect(await count(`note = 'rolled back'`)).toBe(0);
  });

  it('runs one connection’s transaction to its end before another connection’s statements', async () => {
    const order: string[] = [];
    const owner = database.dataSource.createQueryRunner();
    await owner.startTransaction();
    try {
      await owner.query('INSERT INTO probe (id) VALUES (1)');
      // The session is shared: a statement let in now would see the uncommitted row.
      const other = count('id = 1').then((n) => {
        order.push('other');
        return n;
      });
      await owner.query('INSERT INTO probe (id) VALUES (2)');
      await owner.rollbackTransaction();
      order.push('rolled back');
      expect(await other).toBe(0);
      expect(order).toEqual(['rolled back', 'other']);
    } finally {
      await owner.release();
    }
  });

  it('rolls back the transaction of a connection lost in the middle of it', async () => {
    const client = await separateClient();
    await client.query('BEGIN');
    await client.query('INSERT INTO probe (id) VALUES (10)');
    destroySocketOf(client);
    expect(await count('id = 10')).toBe(0);
    await database.dataSource.query('INSERT INTO probe (id) VALUES (10)');
    expect(await count('id = 10')).toBe(1);
  });

  it('rolls back a statement whose connection was lost before its Sync', async () => {
    const raw = await RawConnection.open(endpoint());
    raw.send(parse('INSERT INTO probe (id) VALUES (11)'), bind(), execute());
    await raw.received('C'); // CommandComplete: the row is inserted, its implicit transaction still open
    raw.socket.destroy();
    expect(await count('id = 11')).toBe(0);
  });

  it('recovers from a failed exchange whose connection was lost before its Sync', async () => {
    const raw = await RawConnection.open(endpoint());
    raw.send(parse('INSERT INTO no_such_table VALUES (1)'), bind(), execute());
    await raw.received('E');
    raw.socket.destroy();
    await database.dataSource.query('INSERT INTO probe (id) VALUES (12)');
    expect(await count('id = 12')).toBe(1);
  });

  it('ends a connection idle in a transaction past the timeout, undoing it, so the others go on', async () => {
    const client = await separateClient();
    const ended = new Promise<Error & { code?: string }>((resolve) => client.once('error', resolve));
    await client.query('BEGIN');
    await client.query('INSERT INTO probe (id) VALUES (20)');
    // This statement waits for the idle transaction, and runs once the server has ended it.
    expect(await count('id = 20')).toBe(0);
    expect((await ended).code).toBe('25P03');
    await expect(client.query('SELECT 1')).rejects.toThrow();
  });

  it('passes a NOTIFY committed on one connection to a client listening on another', async () => {
    const listener = await separateClient();
    await listener.query('LISTEN ledger_probe');
    const heard = new Promise<string | undefined>((resolve) =>
      listener.on('notification', (message) => resolve(message.payload)),
    );
    await database.dataSource.transaction(async (manager) => {
      await manager.query(`SELECT pg_notify('ledger_probe', 'appended')`);
    });
    expect(await heard).toBe('appended');
    await listener.query('UNLISTEN ledger_probe');
  });

  it('refuses to open its data directory a second time', async () => {
    await expect(openDatabase({ dataDir })).rejects.toThrow(DataDirInUseError);
  });

  it('keeps its data through close and reopen', async () => {
    await database.dataSource.query(`INSERT INTO probe (id, note) VALUES (30, 'kept')`);
    await database.close();
    database = await openDatabase({ dataDir });
    expect(await count(`id = 30 AND note = 'kept'`)).toBe(1);
  });
});

function destroySocketOf(client: Client): void {
  (client as unknown as { connection: { stream: Socket } }).connection.stream.destroy();
}

/** A bare protocol connection, for exchanges that `pg` never leaves unfinished. */
class RawConnection {
  private received_ = Buffer.alloc(0);
  private readonly listeners: Array<() => void> = [];

  private constructor(readonly socket: Socket) {
    socket.on('data', (data: Buffer) => {
      this.received_ = Buffer.concat([this.received_, data]);
      for (const listener of this.listeners.splice(0)) listener();
    });
    socket.on('error', () => undefined);
  }

  static async open(endpoint: { host: string; port: number }): Promise<RawConnection> {
    const socket = connect(endpoint);
    await new Promise((resolve) => socket.once('connect', resolve));
    const connection = new RawConnection(socket);
    socket.write(startup());
    await connection.received('Z');
    return connection;
  }

  send(...messages: Buffer[]): void {
    this.socket.write(Buffer.concat(messages));
  }

  /** Resolves once a message of this type has arrived (since the connection opened). */
  async received(type: string): Promise<void> {
    while (!this.types().includes(type)) await new Promise<void>((resolve) => this.listeners.push(resolve));
  }

  private types(): string[] {
    const types: string[] = [];
    for (
      let offset = 0;
      offset + 5 <= this.received_.length;
      offset += 1 + this.received_.readInt32BE(offset + 1)
    ) {
      types.push(String.fromCharCode(this.received_[offset]));
    }
    return types;
  }
}

function startup(): Buffer {
  const body = Buffer.from('user\0postgres\0database\0postgres\0\0');
  const header = Buffer.alloc(8);
  header.writeInt32BE(body.length + 8, 0);
  header.writeInt32BE(196608, 4); // protocol 3.0
  return Buffer.concat([header, body]);
}

function message(type: string, body: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

function parse(sql: string): Buffer {
  return message('P', Buffer.concat([Buffer.from(`\0${sql}\0`), Buffer.alloc(2)]));
}

function bind(): Buffer {
  return message('B', Buffer.concat([Buffer.from('\0\0'), Buffer.alloc(6)]));
}

function execute(): Buffer {
  return message('E', Buffer.concat([Buffer.from('\0'), Buffer.alloc(4)]));
}
