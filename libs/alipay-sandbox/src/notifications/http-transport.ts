/** One POST of a notification body to a merchant's notify_url. */
export interface Delivery {
  readonly url: string;
  readonly body: Buffer;
  readonly contentType: string;
  readonly timeoutMs: number;
  /** Aborted when the sandbox stops. */
  readonly signal?: AbortSignal;
}

/** What came back: a status and the start of the body, or why nothing did. */
export type DeliveryReply = { readonly status: number; readonly body: string } | { readonly error: string };

/** Sends one delivery; never rejects. */
export type Transport = (delivery: Delivery) => Promise<DeliveryReply>;

/** How much of a reply is read: `success` is 7 bytes, the rest is kept only to show what came instead. */
const MAX_REPLY_BYTES = 4096;

function describe(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'no reply in time';
    if (error.name === 'AbortError') return 'the sandbox stopped';
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as { code?: unknown }).code;
      return typeof code === 'string' ? `${code}: ${cause.message}` : cause.message;
    }
    return error.message;
  }
  return String(error);
}

async function readSome(response: Response): Promise<Buffer> {
  if (response.body === null) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    chunks.push(chunk);
    length += chunk.byteLength;
    // Leaving the loop cancels the rest of the body.
    if (length >= MAX_REPLY_BYTES) break;
  }
  return Buffer.concat(chunks).subarray(0, MAX_REPLY_BYTES);
}

/**
 * POSTs as Alipay's notifier does (docs/alipay-protocol.md, "Raw bodies"): the malformed Content-Type,
 * `User-Agent: Mozilla/4.0`, no redirect followed (a redirect is not `success`).
 */
export const httpTransport: Transport = async (delivery) => {
  try {
    const response = await fetch(delivery.url, {
      method: 'POST',
      headers: { 'content-type': delivery.contentType, 'user-agent': 'Mozilla/4.0' },
      // A Uint8Array: a body under both declarations of fetch, Node's and the DOM's the console's pages bring.
      body: new Uint8Array(delivery.body),
      redirect: 'manual',
      signal:
        delivery.signal === undefined
          ? AbortSignal.timeout(delivery.timeoutMs)
          : AbortSignal.any([AbortSignal.timeout(delivery.timeoutMs), delivery.signal]),
    });
    const body = await readSome(response);
    return { status: response.status, body: body.toString('utf8') };
  } catch (error) {
    return { error: describe(error) };
  }
};
