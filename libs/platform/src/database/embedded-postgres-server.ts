import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ProtocolBackend } from './pglite-worker';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const MAX_MESSAGE_BYTES = 1 << 30;

const STARTUP = 0x00; // a startup packet has no type byte; its length's high byte is 0
const TERMINATE = 0x58; // 'X'
const QUERY = 0x51; // 'Q'
const SYNC = 0x53; // 'S'
const NOTIFICATION = 0x41; // 'A'
const READY_FOR_QUERY = 0x5a; // 'Z'
const IDLE = 0x49; // 'I', the transaction status of ReadyForQuery outside a transaction block

/** Undoes an unfinished exchange: BEGIN turns its implicit transaction into a block that ROLLBACK ends (a
 * Sync alone would commit it); after an error the backend skips to the Sync anyway. */
const ROLL_BACK_EXCHANGE = Buffer.concat([typedMessage('Q', 'BEGIN; ROLLBACK'), typedMessage('S')]);
const ROLL_BACK = typedMessage('Q', 'ROLLBACK');

export interface EmbeddedServerOptions {
  host: string;
  /** Connections beyond this are refused, as PostgreSQL's max_connections does. */
  maxConnections: number;
  /** A connection that holds the database idle inside a transaction this long is ended; 0 never. */
  idleInTransactionTimeoutMs: number;
  onWarning?: (message: string) => void;
}

class Session {
  readonly inbox: Uint8Array[] = [];
  started = false;
  closed = false;
  queued = false;
  /** Messages were executed since the last ReadyForQuery (an extended-protocol exchange is under way). */
  midUnit = false;
  /** The last ReadyForQuery said a transaction block is open (in progress or failed). */
  inTransaction = false;
  idleTimer?: NodeJS.Timeout;
  private pending: Buffer = Buffer.alloc(0);

  constructor(readonly socket: Socket) {}

  /** Splits the bytes received so far into protocol messages; false on a malformed stream. */
  receive(data: Buffer): boolean {
    this.pending = this.pending.length === 0 ? data : Buffer.concat([this.pending, data]);
    for (;;) {
      if (!this.started) {
        if (this.pending.length < 8) return true;
        const length = this.pending.readInt32BE(0);
        const code = this.pending.readInt32BE(4);
        if (length < 8 || length > MAX_MESSAGE_BYTES) return false;
        if (this.pending.length < length) return true;
        const message = this.take(length);
        if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
          this.socket.write('N'); // no encryption on the loopback socket; the client goes on in clear
        } else if (code === CANCEL_REQUEST) {
          return false; // PGlite has no backend to interrupt; the request's connection is simply closed
        } else {
          this.started = true;
          this.inbox.push(message);
        }
        continue;
      }
      if (this.pending.length < 5) return true;
      const length = this.pending.readInt32BE(1);
      if (length < 4 || length > MAX_MESSAGE_BYTES) return false;
      if (this.pending.length < length + 1) return true;
      this.inbox.push(this.take(length + 1));
    }
  }

  /**
   * The next messages to run together: a startup packet or Terminate alone, else the messages up to and
   * including the Sync or Query that ends an exchange (or all there are, when the rest has not arrived yet).
   */
  nextExchange(): Uint8Array | undefined {
    const first = this.inbox[0];
    if (first === undefined) return undefined;
    if (first[0] === STARTUP || first[0] === TERMINATE) return this.inbox.shift();
    let count = 0;
    while (count < this.inbox.length) {
      const type = this.inbox[count][0];
      if (type === STARTUP || type === TERMINATE) break;
      count++;
      if (type === SYNC || type === QUERY) break;
    }
    return Buffer.concat(this.inbox.splice(0, count));
  }

  private take(length: number): Uint8Array {
    const message = new Uint8Array(this.pending.subarray(0, length));
    this.pending = this.pending.subarray(length);
    return message;
  }
}

/**
 * A PostgreSQL wire-protocol front for PGlite, so that the same `pg` pool and TypeORM driver serve both
 * databases. PGlite is one backend session: this server lends it to one connection at a time, for a whole
 * exchange (up to ReadyForQuery) and for as long as that connection keeps a transaction block open, so that
 * transactions from different connections run one after another and never interleave. (The multiplexer of
 * @electric-sql/pglite-socket 0.2 interleaves the messages of concurrent extended-protocol queries, which
 * fails them with "portal does not exist" or binds one client's parameters to another's statement.)
 *
 * Because the session is shared, session state (SET, LISTEN, advisory locks, prepared statements) is shared
 * by all connections. Notifications are passed to every connection, so a LISTENing client hears NOTIFYs
 * committed through any other connection, as it would on PostgreSQL.
 */
export class EmbeddedPostgresServer {
  private readonly sessions = new Set<Session>();
  private readonly waiting: Session[] = [];
  /** The connection the PGlite session is lent to, until it is idle outside a transaction. */
  private owner?: Session;
  private pumping?: Promise<void>;
  private wakeUp = false;
  private stopping = false;

  private constructor(
    private readonly backend: ProtocolBackend,
    private readonly server: Server,
    private readonly options: EmbeddedServerOptions,
  ) {}

  /** Listens on `options.host` and a port chosen by the system. */
  static async start(
    backend: ProtocolBackend,
    options: EmbeddedServerOptions,
  ): Promise<EmbeddedPostgresServer> {
    const server = createServer();
    const embedded = new EmbeddedPostgresServer(backend, server, options);
    server.on('connection', (socket) => embedded.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return embedded;
  }

  get host(): string {
    return this.options.host;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  /** Closes every connection (rolling back a transaction left open) and stops listening. */
  async stop(): Promise<void> {
    this.stopping = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const session of this.sessions) this.close(session);
    await this.pump();
    await closed;
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    socket.on('error', () => undefined); // a 'close' follows, which does the cleanup
    if (this.stopping || this.sessions.size >= this.options.maxConnections) {
      socket.write(errorResponse('53300', 'sorry, too many clients already'));
      socket.destroySoon();
      return;
    }
    const session = new Session(socket);
    this.sessions.add(session);
    socket.on('data', (data: Buffer) => this.onData(session, data));
    socket.on('close', () => this.close(session));
  }

  private onData(session: Session, data: Buffer): void {
    if (session.closed) return;
    if (!session.receive(data)) {
      this.close(session);
      return;
    }
    if (session.inbox.length === 0) return;
    if (session === this.owner) {
      clearTimeout(session.idleTimer);
    } else if (session.inbox.length === 1 && session.inbox[0][0] === TERMINATE) {
      this.close(session); // a connection that holds nothing may leave at once
      return;
    } else if (!session.queued) {
      session.queued = true;
      this.waiting.push(session);
    }
    void this.pump();
  }

  /**
   * Ends a connection. Only the owner can hold a transaction or be inside an exchange, so only the owner
   * needs cleaning up, which the pump does in turn (never in the middle of one of its messages).
   */
  private close(session: Session): void {
    if (session.closed) return;
    session.closed = true;
    clearTimeout(session.idleTimer);
    session.inbox.length = 0;
    session.socket.destroySoon(); // after what was written to it, such as a FATAL error, is flushed
    this.sessions.delete(session);
    if (session === this.owner) void this.pump();
  }

  /** Runs queued messages, one connection at a time, until none can run. */
  private pump(): Promise<void> {
    this.wakeUp = true;
    this.pumping ??= this.drain().finally(() => {
      this.pumping = undefined;
    });
    return this.pumping;
  }

  private async drain(): Promise<void> {
    while (this.wakeUp) {
      this.wakeUp = false;
      for (;;) {
        const session = this.owner ?? this.nextWaiting();
        if (session === undefined) break;
        this.owner = session;
        if (session.closed) {
          await this.abandon(session);
          this.owner = undefined;
          continue;
        }
        const message = session.nextExchange();
        if (message === undefined) {
          this.armIdleTimer(session);
          break;
        }
        if (message[0] === TERMINATE) {
          this.close(session);
          continue;
        }
        await this.execute(session, message);
        if (!session.midUnit && !session.inTransaction) {
          this.owner = undefined;
          if (session.inbox.length > 0 && !session.closed) {
            session.queued = true;
            this.waiting.push(session);
          }
          await nextTurn(); // let sockets be read and written between two exchanges
        }
      }
    }
  }

  private nextWaiting(): Session | undefined {
    for (let session = this.waiting.shift(); session !== undefined; session = this.waiting.shift()) {
      session.queued = false;
      if (!session.closed && session.inbox.length > 0) return session;
    }
    return undefined;
  }

  private async execute(session: Session, message: Uint8Array): Promise<void> {
    let output: Buffer;
    try {
      output = await this.run(message);
    } catch (error) {
      this.options.onWarning?.(`embedded database failed a request: ${describe(error)}`);
      this.close(session);
      return;
    }
    const status = transactionStatus(output);
    session.midUnit = status === undefined;
    if (status !== undefined) session.inTransaction = status !== IDLE;
    if (output.length > 0 && !session.socket.destroyed) session.socket.write(output);
    for (const notification of messagesOfType(output, NOTIFICATION)) {
      for (const other of this.sessions) {
        if (other !== session && other.started && !other.socket.destroyed) other.socket.write(notification);
      }
    }
  }

  /**
   * Returns the shared session to a clean state after its owner left in the middle of an exchange or of a
   * transaction, as PostgreSQL does when a connection is lost: nothing it did uncommitted may survive.
   */
  private async abandon(session: Session): Promise<void> {
    let inTransaction = session.inTransaction;
    try {
      if (session.midUnit) inTransaction = transactionStatus(await this.run(ROLL_BACK_EXCHANGE)) !== IDLE;
      if (inTransaction) await this.run(ROLL_BACK);
    } catch (error) {
      this.options.onWarning?.(`embedded database could not roll back a lost connection: ${describe(error)}`);
    }
  }

  private run(messages: Uint8Array): Promise<Buffer> {
    return this.backend.run(messages);
  }

  private armIdleTimer(session: Session): void {
    const timeout = this.options.idleInTransactionTimeoutMs;
    if (timeout <= 0) return;
    clearTimeout(session.idleTimer);
    session.idleTimer = setTimeout(() => {
      if (session !== this.owner || session.inbox.length > 0 || session.closed) return;
      this.options.onWarning?.(
        `embedded database: ended a connection idle in a transaction for more than ${timeout} ms`,
      );
      session.socket.write(
        errorResponse('25P03', 'terminating connection due to idle-in-transaction timeout'),
      );
      this.close(session);
    }, timeout);
    session.idleTimer.unref();
  }
}

/** The messages of one type in a backend's output. */
function messagesOfType(output: Buffer, type: number): Buffer[] {
  const found: Buffer[] = [];
  for (let offset = 0; offset + 5 <= output.length; offset += 1 + output.readInt32BE(offset + 1)) {
    if (output[offset] === type)
      found.push(output.subarray(offset, offset + 1 + output.readInt32BE(offset + 1)));
  }
  return found;
}

/** The transaction status of the output's last ReadyForQuery; undefined when the exchange is unfinished. */
function transactionStatus(output: Buffer): number | undefined {
  return messagesOfType(output, READY_FOR_QUERY).at(-1)?.[5];
}

/** A typed protocol message; a string body is sent NUL-terminated, as protocol strings are. */
function typedMessage(type: string, body = ''): Buffer {
  const payload = Buffer.from(body === '' ? '' : `${body}\0`);
  const header = Buffer.alloc(5);
  header.write(type, 0, 'latin1');
  header.writeInt32BE(payload.length + 4, 1);
  return Buffer.concat([header, payload]);
}

/** A FATAL ErrorResponse, after which the connection is closed. */
function errorResponse(sqlState: string, message: string): Buffer {
  const fields = ['SFATAL', 'VFATAL', `C${sqlState}`, `M${message}`].map((field) => `${field}\0`).join('');
  return typedMessage('E', fields);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
