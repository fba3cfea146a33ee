import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  decodePairs,
  detectCharset,
  encodeText,
  parseForm,
  verifyNotification,
  type Charset,
  type SignType,
  type VerificationReason,
} from '@ledger/alipay-protocol';
import { DEMO_ALIPAY } from '@ledger/platform';

// A gateway.do of our own for tests (tests against the real thing over HTTP). It answers the
// three server-to-server services the ledger calls the way mapi.alipay.com does (docs/alipay-protocol.md,
// "notify_verify", "nopwd answer" and "Error codes"), checks the merchant's signature like Alipay
// (ILLEGAL_SIGN), and can be told, per notify_id, trade_no or batch_no, to answer otherwise: false, slow,
// down, rejected, pending, or any raw reply.

/** The services the fake gateway answers. */
export type FakeGatewayService =
  'notify_verify' | 'send_goods_confirm_by_platform' | 'refund_fastpay_by_platform_nopwd';

/**
 * One answer of the fake gateway:
 * - `'true'`, `'false'`, `'invalid'`: a plain-text `notify_verify` body;
 * - `'T'`, `'P'`, `{ error }`: an XML reply with `is_success` T, P, or F and the error code;
 * - `'down'`: the connection is dropped without a reply;
 * - `{ delayMs, then }`: `then`, after a pause (a slow gateway);
 * - `{ status, body, contentType? }`: any other reply (an nginx error page, a GBK body...).
 */
export type FakeGatewayAnswer =
  | 'true'
  | 'false'
  | 'invalid'
  | 'T'
  | 'P'
  | { readonly error: string }
  | 'down'
  | { readonly delayMs: number; readonly then: FakeGatewayAnswer }
  | { readonly status: number; readonly body: string | Buffer; readonly contentType?: string };

/** A request the fake gateway received, and what it answered. */
export interface FakeGatewayRequest {
  readonly service: string | undefined;
  /** What the answer was chosen by: `notify_id`, `trade_no` or `batch_no`. */
  readonly key: string | undefined;
  readonly method: string;
  /** Path and query as received. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** Query and body parameters, decoded in the request's `_input_charset` (body wins on a clash). */
  readonly params: Readonly<Record<string, string>>;
  readonly charset: Charset;
  /** Whether the merchant's signature verified; `not-checked` for notify_verify or without keys. */
  readonly signature: 'valid' | 'invalid' | 'not-checked';
  readonly signatureReason?: VerificationReason;
  /**
   * The answer given (`'down'`: the connection was dropped); absent while a delayed answer waits. The
   * request is recorded when it arrives, so a test can wait for a call that is still being answered.
   */
  readonly answer?: Exclude<FakeGatewayAnswer, { delayMs: number }>;
  readonly receivedAt: Date;
}

export interface FakeGatewayOptions {
  /** The partner the gateway knows; other partners get `ILLEGAL_PARTNER` (`invalid` for notify_verify). */
  readonly partner?: string;
  /** The sign type merchant requests must use. Default MD5. */
  readonly signType?: SignType;
  /** MD5 keys that verify merchant requests. Default: the demo key. An empty list skips the check. */
  readonly md5Keys?: readonly string[];
  /** The merchant's public key, for RSA requests. */
  readonly merchantPublicKeyPem?: string;
  /**
   * The charset of XML replies, and of their declaration. Default GBK, as in Alipay's samples
   * (docs/alipay-protocol.md, "XML replies").
   */
  readonly xmlCharset?: Charset;
}

export interface FakeAlipayGateway {
  /** `http://127.0.0.1:<port>/gateway.do`: what ALIPAY_GATEWAY points at. */
  readonly url: string;
  /** Every request received, in arrival order. */
  readonly requests: readonly FakeGatewayRequest[];
  /**
   * Scripts the answers to `service` for one `key` (notify_id, trade_no or batch_no): one answer per
   * request, in order; the last one then stays. Replaces any earlier script for that key.
   */
  script(
    service: FakeGatewayService,
    key: string,
    ...answers: [FakeGatewayAnswer, ...FakeGatewayAnswer[]]
  ): void;
  /**
   * Scripts the answers to the next requests for `service` whose key has no script, whatever the key (a
   * batch_no the ledger has not allocated yet): one answer per request, in order; then the default again.
   */
  scriptNext(service: FakeGatewayService, ...answers: [FakeGatewayAnswer, ...FakeGatewayAnswer[]]): void;
  /** The answer for keys without a script; `undefined` restores the built-in behaviour. */
  setDefault(service: FakeGatewayService, answer: FakeGatewayAnswer | undefined): void;
  /** The requests for a service (and key). */
  requestsFor(service: FakeGatewayService, key?: string): FakeGatewayRequest[];
  /** How many requests for a service (and key) were answered `T` or `P`: accepted. */
  acceptedCount(service: FakeGatewayService, key?: string): number;
  /** Resolves with the first request (already received or to come) that matches, or rejects after `timeoutMs`. */
  waitForRequest(
    predicate: (request: FakeGatewayRequest) => boolean,
    timeoutMs?: number,
  ): Promise<FakeGatewayRequest>;
  /** Forgets requests, scripts, defaults and what was accepted. */
  reset(): void;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

const KEY_PARAM: Readonly<Record<FakeGatewayService, string>> = {
  notify_verify: 'notify_id',
  send_goods_confirm_by_platform: 'trade_no',
  refund_fastpay_by_platform_nopwd: 'batch_no',
};

const MAX_BODY_BYTES = 1024 * 1024;

function isService(name: string | undefined): name is FakeGatewayService {
  return name !== undefined && Object.hasOwn(KEY_PARAM, name);
}

type FinalAnswer = NonNullable<FakeGatewayRequest['answer']>;

function isAccepted(answer: FinalAnswer | undefined): boolean {
  return answer === 'T' || answer === 'P';
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Starts a fake gateway on 127.0.0.1 and a free port. */
export async function startFakeAlipayGateway(options: FakeGatewayOptions = {}): Promise<FakeAlipayGateway> {
  const partner = options.partner ?? DEMO_ALIPAY.partner;
  const signType = options.signType ?? 'MD5';
  const md5Keys = options.md5Keys ?? [DEMO_ALIPAY.md5Key];
  const checksSignatures =
    signType === 'RSA' ? options.merchantPublicKeyPem !== undefined : md5Keys.length > 0;
  const xmlCharset = options.xmlCharset ?? 'gbk';

  const requests: FakeGatewayRequest[] = [];
  const scripts = new Map<string, FakeGatewayAnswer[]>();
  const defaults = new Map<FakeGatewayService, FakeGatewayAnswer>();
  const upcoming = new Map<FakeGatewayService, FakeGatewayAnswer[]>();
  const accepted = new Set<string>();
  const waiters = new Set<(request: FakeGatewayRequest) => void>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const scriptKey = (service: string, key: string) => `${service}\u0000${key}`;

  const builtIn = (service: FakeGatewayService, key: string | undefined): FakeGatewayAnswer => {
    switch (service) {
      case 'notify_verify':
        return 'true';
      case 'send_goods_confirm_by_platform':
        // Alipay refuses to ship a trade it already sees shipped.
        return key !== undefined && accepted.has(scriptKey(service, key))
          ? { error: 'TRADE_STATUS_NOT_AVAILD' }
          : 'T';
      case 'refund_fastpay_by_platform_nopwd':
        // docs/alipay-protocol.md, "batch_no": a batch_no is accepted once, for ever.
        return key !== undefined && accepted.has(scriptKey(service, key))
          ? { error: 'DUPLICATE_BATCH_NO' }
          : 'T';
    }
  };

  const choose = (service: FakeGatewayService, key: string | undefined): FakeGatewayAnswer => {
    const script = key === undefined ? undefined : scripts.get(scriptKey(service, key));
    if (script !== undefined) return script.length > 1 ? script.shift()! : script[0];
    const next = upcoming.get(service)?.shift();
    if (next !== undefined) return next;
    return defaults.get(service) ?? builtIn(service, key);
  };

  const xml = (inner: string): { status: number; body: Buffer; contentType: string } => {
    const label = xmlCharset === 'gbk' ? 'GBK' : 'UTF-8';
    const text = `<?xml version="1.0" encoding="${label}"?>\n<alipay>${inner}</alipay>`;
    const bytes = encodeText(text, xmlCharset);
    if (!bytes.ok) throw new Error(`the reply cannot be written in ${xmlCharset}`);
    return { status: 200, body: bytes.value, contentType: `text/xml; charset=${label}` };
  };

  const render = (
    answer: FinalAnswer,
    service: string | undefined,
    params: Readonly<Record<string, string>>,
  ): { status: number; body: Buffer; contentType: string } | undefined => {
    if (answer === 'down') return undefined;
    if (answer === 'true' || answer === 'false' || answer === 'invalid') {
      return { status: 200, body: Buffer.from(answer), contentType: 'text/plain; charset=utf-8' };
    }
    if (answer === 'T' || answer === 'P') {
      const request = Object.entries(params)
        .filter(([name]) => name !== 'sign' && name !== 'sign_type')
        .map(([name, value]) => `<param name="${escapeXml(name)}">${escapeXml(value)}</param>`)
        .join('');
      const response =
        service === 'send_goods_confirm_by_platform'
          ? `<response><tradeBase><trade_no>${escapeXml(params.trade_no ?? '')}</trade_no>` +
            `<trade_status>WAIT_BUYER_CONFIRM_GOODS</trade_status></tradeBase></response>`
          : '';
      return xml(`<is_success>${answer}</is_success><request>${request}</request>${response}`);
    }
    if ('error' in answer) {
      return xml(`<is_success>F</is_success><error>${escapeXml(answer.error)}</error>`);
    }
    const body = typeof answer.body === 'string' ? Buffer.from(answer.body) : answer.body;
    return { status: answer.status, body, contentType: answer.contentType ?? 'text/html; charset=utf-8' };
  };

  const requestsFor = (service: FakeGatewayService, key?: string) =>
    requests.filter((r) => r.service === service && (key === undefined || r.key === key));

  const record = (request: FakeGatewayRequest) => {
    requests.push(request);
    for (const waiter of [...waiters]) waiter(request);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, body: Buffer) => {
    const receivedAt = new Date();
    const url = req.url ?? '/';
    const queryStart = url.indexOf('?');
    const path = queryStart === -1 ? url : url.slice(0, queryStart);
    const query = queryStart === -1 ? '' : url.slice(queryStart + 1);
    if (path !== '/gateway.do') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const contentType = req.headers['content-type'];
    const queryPairs = parseForm(query).pairs;
    const bodyPairs = req.method === 'POST' ? parseForm(body).pairs : [];
    const { charset } = detectCharset([...bodyPairs, ...queryPairs], contentType, 'utf-8');
    const params: Record<string, string> = {};
    for (const { name, value } of [...decodePairs(queryPairs, charset), ...decodePairs(bodyPairs, charset)]) {
      params[name] = value;
    }
    const service = params.service;
    const key = isService(service) ? params[KEY_PARAM[service]] : undefined;

    let signature: FakeGatewayRequest['signature'] = 'not-checked';
    let signatureReason: VerificationReason | undefined;
    if (checksSignatures && service !== 'notify_verify') {
      const verified = verifyNotification(req.method === 'POST' ? body : query, {
        signType,
        md5Keys,
        ...(options.merchantPublicKeyPem === undefined
          ? {}
          : { alipayPublicKeyPem: options.merchantPublicKeyPem }),
        defaultCharset: charset,
        contentType,
        source: 'request',
      });
      signature = verified.ok ? 'valid' : 'invalid';
      signatureReason = verified.reason;
    }

    let answer: FakeGatewayAnswer;
    if (!isService(service)) answer = { error: 'ILLEGAL_SERVICE' };
    else if (params.partner !== partner)
      answer = service === 'notify_verify' ? 'invalid' : { error: 'ILLEGAL_PARTNER' };
    else if (signature === 'invalid') answer = { error: 'ILLEGAL_SIGN' };
    else answer = choose(service, key);

    const entry: { -readonly [K in keyof FakeGatewayRequest]: FakeGatewayRequest[K] } = {
      service,
      key,
      method: req.method ?? 'GET',
      url,
      headers: req.headers,
      body,
      params,
      charset,
      signature,
      ...(signatureReason === undefined ? {} : { signatureReason }),
      receivedAt,
    };
    record(entry);
    const respond = (next: FakeGatewayAnswer): void => {
      if (typeof next === 'object' && 'delayMs' in next) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          respond(next.then);
        }, next.delayMs);
        timers.add(timer);
        return;
      }
      entry.answer = next;
      if (isService(service) && key !== undefined && isAccepted(next)) accepted.add(scriptKey(service, key));
      const reply = render(next, service, params);
      if (reply === undefined) {
        req.socket.destroy();
        return;
      }
      if (res.destroyed || res.writableEnded) return;
      res.writeHead(reply.status, { 'content-type': reply.contentType, 'content-length': reply.body.length });
      res.end(reply.body);
    };
    respond(answer);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) res.writeHead(413).end();
      else handle(req, res, Buffer.concat(chunks));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/gateway.do`,
    requests,
    script(service, key, ...answers) {
      scripts.set(scriptKey(service, key), [...answers]);
    },
    scriptNext(service, ...answers) {
      upcoming.set(service, [...(upcoming.get(service) ?? []), ...answers]);
    },
    setDefault(service, answer) {
      if (answer === undefined) defaults.delete(service);
      else defaults.set(service, answer);
    },
    requestsFor,
    acceptedCount(service, key) {
      return requestsFor(service, key).filter((r) => isAccepted(r.answer)).length;
    },
    waitForRequest(predicate, timeoutMs = 10_000) {
      const found = requests.find(predicate);
      if (found !== undefined) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter = (request: FakeGatewayRequest) => {
          if (!predicate(request)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(request);
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(`no matching gateway request within ${timeoutMs} ms (${requests.length} received)`),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    reset() {
      requests.length = 0;
      scripts.clear();
      upcoming.clear();
      defaults.clear();
      accepted.clear();
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
