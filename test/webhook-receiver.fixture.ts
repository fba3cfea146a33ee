import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the receiver does with a webhook: answer with a status (and body), or never answer. */
export type ReceiverBehaviour = { status: number; body?: string; delayMs?: number } | 'hang';

/** One webhook as the receiver got it. */
export interface ReceivedWebhook {
  id: string;
  timestamp: number;
  /** Whether the signature verified, by this file's own HMAC, not the ledger's library. */
  verified: boolean;
  type: string;
  subject: string;
  body: { type: string; data: Record<string, unknown> };
  receivedAt: number;
}

/**
 * The Standard Webhooks signature, verified independently of the `standardwebhooks` package the ledger
 * signs with: HMAC-SHA256 over `{id}.{timestamp}.{body}` keyed with the base64 after `whsec_`, compared with
 * each `v1,` entry of the header.
 */
export function verifySignature(
  secret: string,
  id: string,
  timestamp: string,
  body: Buffer,
  header: string,
): boolean {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key)
    .update(Buffer.concat([Buffer.from(`${id}.${timestamp}.`, 'utf8'), body]))
    .digest();
  return header.split(' ').some((entry) => {
    const [version, signature] = entry.split(',', 2);
    if (version !== 'v1' || signature === undefined) return false;
    const given = Buffer.from(signature, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/**
 * A merchant's webhook receiver on a real port: verifies every signature, records what came, and behaves
 * per order as the test scripts it (`script(outTradeNo, ...behaviours)`: for its `*_requested` webhooks, one
 * behaviour per attempt, the last one repeated); by default 200 with `{"reference": "R-<n>"}`.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  /** From its arrival to its answer (`performance.now()`), each webhook answered: how many came at once. */
  readonly answered: { subject: string; type: string; from: number; to: number }[] = [];
  private readonly scripts = new Map<string, ReceiverBehaviour[]>();
  private readonly hanging = new Set<ServerResponse>();
  private serial = 0;

  private constructor(
    private readonly server: Server,
    readonly secret: string,
    private readonly answerDelayMs: number,
  ) {}

  /** `answerDelayMs`: how long the default answer takes (a receiver with work to do). */
  static async start(secret: string, port = 0, answerDelayMs = 0): Promise<WebhookReceiver> {
    const server = createServer();
    const receiver = new WebhookReceiver(server, secret, answerDelayMs);
    server.on('request', (request: IncomingMessage, response: ServerResponse) =>
      receiver.handle(request, response),
    );
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return receiver;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/webhooks`;
  }

  script(subject: string, ...behaviours: ReceiverBehaviour[]): void {
    this.scripts.set(subject, behaviours);
  }

  of(subject: string, type?: string): ReceivedWebhook[] {
    return this.received.filter((w) => w.subject === subject && (type === undefined || w.type === type));
  }

  /** Resolves once `done` holds; fails after `timeoutMs`. */
  async until(done: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`the receiver never saw ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  async close(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const id = String(request.headers['webhook-id'] ?? '');
      const timestamp = String(request.headers['webhook-timestamp'] ?? '');
      const verified = verifySignature(
        this.secret,
        id,
        timestamp,
        body,
        String(request.headers['webhook-signature'] ?? ''),
      );
      const parsed = JSON.parse(body.toString('utf8')) as {
        type: string;
        data: { outTradeNo?: string; batchNo?: string };
      };
      const subject = parsed.data.outTradeNo ?? parsed.data.batchNo ?? '';
      const from = performance.now();
      response.once('close', () =>
        this.answered.push({ subject, type: parsed.type, from, to: performance.now() }),
      );
      this.received.push({
        id,
        timestamp: Number(timestamp),
        verified,
        type: parsed.type,
        subject,
        body: parsed,
        receivedAt: Date.now(),
      });
      if (!verified) {
        response.writeHead(401).end();
        return;
      }
      const attempts = this.of(subject, parsed.type).filter((w) => w.id === id).length;
      // Scripts are for the webhooks that act; the others are always answered.
      const script = parsed.type.endsWith('_requested') ? (this.scripts.get(subject) ?? []) : [];
      const behaviour = script[Math.min(attempts - 1, script.length - 1)] ?? {
        status: 200,
        body: JSON.stringify({ reference: `R-${++this.serial}` }),
        delayMs: this.answerDelayMs,
      };
      if (behaviour === 'hang') {
        this.hanging.add(response);
        response.on('close', () => this.hanging.delete(response));
        return;
      }
      const answer = () => {
        response.writeHead(behaviour.status, { 'content-type': 'application/json' });
        response.end(behaviour.body ?? '{}');
      };
      if (behaviour.delayMs === undefined || behaviour.delayMs === 0) answer();
      else setTimeout(answer, behaviour.delayMs);
    });
  }
}
