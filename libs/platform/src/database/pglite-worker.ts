import { Worker } from 'node:worker_threads';

/**
 * The worker's program, plain JavaScript evaluated by the worker (no file to ship next to the build).
 * PGlite runs there because it executes each request synchronously in WebAssembly: on the main thread a
 * long query would stall every HTTP request, and a test runner's module sandbox cannot host its dynamic
 * imports. Requests are run one at a time; `runExclusive` also keeps them clear of PGlite's own queries.
 */
const WORKER_PROGRAM = `
const { parentPort, workerData } = require('node:worker_threads');
const { PGlite } = require(workerData.pglitePath);
(async () => {
  let db;
  try {
    db = await PGlite.create({ dataDir: workerData.dataDir, relaxedDurability: false });
  } catch (error) {
    parentPort.postMessage({ type: 'failed', error: String((error && error.stack) || error) });
    return;
  }
  parentPort.on('message', async (request) => {
    if (request.type === 'close') {
      await db.close();
      parentPort.postMessage({ type: 'closed' });
      parentPort.close();
      return;
    }
    try {
      const chunks = [];
      let size = 0;
      await db.runExclusive(() =>
        db.execProtocolRawStream(request.message, {
          onRawData: (bytes) => {
            chunks.push(bytes.slice());
            size += bytes.length;
          },
        }),
      );
      const output = new Uint8Array(size);
      let offset = 0;
      for (const chunk of chunks) {
        output.set(chunk, offset);
        offset += chunk.length;
      }
      parentPort.postMessage({ type: 'output', id: request.id, output }, [output.buffer]);
    } catch (error) {
      parentPort.postMessage({ type: 'error', id: request.id, error: String((error && error.message) || error) });
    }
  });
  parentPort.postMessage({ type: 'ready' });
})();
`;

type WorkerReply =
  | { type: 'ready' | 'closed' }
  | { type: 'failed'; error: string }
  | { type: 'output'; id: number; output: Uint8Array }
  | { type: 'error'; id: number; error: string };

/** Runs PostgreSQL wire-protocol messages on the PGlite session. */
export interface ProtocolBackend {
  /** Runs one or more protocol messages and returns every byte the backend answered. */
  run(messages: Uint8Array): Promise<Buffer>;
}

/** PGlite on its data directory, in a worker thread of this process. */
export class PGliteWorker implements ProtocolBackend {
  private readonly pending = new Map<
    number,
    { resolve: (output: Buffer) => void; reject: (e: Error) => void }
  >();
  private nextId = 1;
  private closing?: Promise<void>;
  private exited?: Error;
  private failure?: Error;
  private closedCleanly = false;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (reply: WorkerReply) => {
      if (reply.type === 'closed') this.closedCleanly = true;
      if (reply.type !== 'output' && reply.type !== 'error') return;
      const request = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.type === 'output') request?.resolve(Buffer.from(reply.output.buffer, 0, reply.output.length));
      else request?.reject(new Error(reply.error));
    });
    worker.on('error', (error) => (this.failure = error));
    worker.on('exit', (code) => {
      const reason = this.failure === undefined ? `exit code ${code}` : this.failure.message;
      this.exited = new Error(`the embedded database stopped (${reason})`);
      for (const request of this.pending.values()) request.reject(this.exited);
      this.pending.clear();
    });
  }

  /** Opens (creating if needed) the PGlite database in `dataDir`, recovering it after a crash. */
  static async start(dataDir: string): Promise<PGliteWorker> {
    const worker = new Worker(WORKER_PROGRAM, {
      eval: true,
      workerData: { dataDir, pglitePath: require.resolve('@electric-sql/pglite') },
    });
    await new Promise<void>((resolve, reject) => {
      const onExit = (code: number) =>
        reject(new Error(`the embedded database did not start (exit code ${code})`));
      worker.once('error', reject);
      worker.once('exit', onExit);
      worker.on('message', function onReply(reply: WorkerReply) {
        if (reply.type !== 'ready' && reply.type !== 'failed') return;
        worker.off('message', onReply);
        worker.off('error', reject);
        worker.off('exit', onExit);
        if (reply.type === 'failed') reject(new Error(`the embedded database did not start: ${reply.error}`));
        else resolve();
      });
    }).catch(async (error: unknown) => {
      await worker.terminate();
      throw error;
    });
    return new PGliteWorker(worker);
  }

  run(messages: Uint8Array): Promise<Buffer> {
    if (this.exited !== undefined) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'request', id, message: messages });
    });
  }

  /** Shuts PGlite down cleanly (a checkpoint, files closed); the worker then ends. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve, reject) => {
      if (this.exited !== undefined) {
        reject(this.exited);
        return;
      }
      this.worker.once('exit', () =>
        this.closedCleanly
          ? resolve()
          : reject(this.exited ?? new Error('the embedded database did not close')),
      );
      this.worker.postMessage({ type: 'close' });
    });
    return this.closing;
  }
}
