import { Writable } from 'node:stream';
import fc from 'fast-check';
import { boundedRecord, MAX_LOG_RECORD } from './bounded-record';
import { LedgerLogger } from './ledger-logger';
import { requestContext, runInRequest } from './request-context';
import { logDestination, readableLines, type Terminal } from './terminal-logs';

/** A logger whose lines are collected, parsed. */
function capturedLogger(level = 'debug'): { logger: LedgerLogger; lines: () => Record<string, unknown>[] } {
  const raw: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      raw.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  // pino writes synchronously to a plain stream's write().
  return {
    logger: new LedgerLogger(level, destination),
    lines: () => raw.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

function rawLength(lines: Record<string, unknown>[]): number[] {
  return lines.map((line) => JSON.stringify(line).length);
}

// The bound is MAX_LOG_RECORD characters of content plus pino's own fields and the cut markers.
const LINE_BOUND = MAX_LOG_RECORD + 2_500;

describe('LedgerLogger', () => {
  it('bounds a line whatever the message: a megabyte string, object, error or stack', () => {
    const { logger, lines } = capturedLogger();
    const huge = 'x'.repeat(1024 * 1024);
    logger.warn(huge, 'Test');
    logger.warn({ msg: 'an object', body: huge, nested: { deeper: [huge, huge, huge] } }, 'Test');
    logger.error(new Error(huge), 'Test');
    logger.error('with a stack', huge, 'Test');
    const written = lines();
    expect(written).toHaveLength(4);
    for (const length of rawLength(written)) expect(length).toBeLessThan(LINE_BOUND);
    expect(String(written[0].msg)).toMatch(/… \(1046576 more characters\)$/);
    expect(written[1].msg).toBe('an object');
    expect((written[2].err as { type: string }).type).toBe('Error');
  });

  it('keeps a short message as it is', () => {
    const { logger, lines } = capturedLogger();
    logger.log('notification 12 applied', 'Ingest');
    expect(lines()[0]).toMatchObject({ level: 30, msg: 'notification 12 applied', context: 'Ingest' });
  });

  it('names the request in every line written while it is handled, and only then', () => {
    const { logger, lines } = capturedLogger();
    runInRequest('req-12345678', () => logger.log('inside', 'Test'));
    logger.log('outside', 'Test');
    const [inside, outside] = lines();
    expect(inside.requestId).toBe('req-12345678');
    expect(outside).not.toHaveProperty('requestId');
  });

  it('writes an access line per request, at a level that follows the status', () => {
    const { logger, lines } = capturedLogger();
    logger.request({ method: 'GET', path: '/health', status: 200, durationMs: 1.5, finished: true });
    logger.request({ method: 'POST', path: '/orders', status: 400, durationMs: 2, finished: true });
    logger.request({ method: 'POST', path: '/alipay/notify', status: 503, durationMs: 9, finished: true });
    logger.request({ method: 'POST', path: '/alipay/notify', status: 200, durationMs: 9, finished: false });
    expect(lines().map((line) => [line.level, line.msg])).toEqual([
      [20, 'GET /health 200 1.5 ms'],
      [30, 'POST /orders 400 2 ms'],
      [40, 'POST /alipay/notify 503 9 ms'],
      [40, 'POST /alipay/notify aborted 9 ms'],
    ]);
  });
});

describe("Nest's start lines", () => {
  it('go to debug: a line per module and route says nothing an operator acts on', () => {
    const atInfo = capturedLogger('info');
    atInfo.logger.log('AdminModule dependencies initialized', 'InstanceLoader');
    atInfo.logger.log('AlipayController {/alipay}:', 'RoutesResolver');
    atInfo.logger.log('Mapped {/alipay/notify, POST} route', 'RouterExplorer');
    atInfo.logger.log('Nest application successfully started', 'NestApplication');
    atInfo.logger.log('ledger listening on 127.0.0.1:3000', 'Ledger');
    expect(atInfo.lines().map((line) => line.msg)).toEqual(['ledger listening on 127.0.0.1:3000']);

    const atDebug = capturedLogger('debug');
    atDebug.logger.log('Mapped {/alipay/notify, POST} route', 'RouterExplorer');
    atDebug.logger.error('cannot listen', 'NestApplication');
    expect(atDebug.lines().map((line) => [line.level, line.context])).toEqual([
      [20, 'RouterExplorer'],
      [50, 'NestApplication'],
    ]);
  });
});

describe('logs on a terminal', () => {
  function terminal(isTTY: boolean): Terminal & { text: () => string } {
    let text = '';
    return { isTTY, hasColors: () => false, write: (chunk: string) => (text += chunk), text: () => text };
  }

  it('are readable lines in demo mode on a terminal, JSON anywhere else', () => {
    expect(logDestination('demo', terminal(true))).toBeDefined();
    expect(logDestination('demo', terminal(false))).toBeUndefined();
    expect(logDestination('live', terminal(true))).toBeUndefined();
  });

  it('say the level, the context, the message and the request, and keep an error whole', () => {
    const screen = terminal(true);
    const logger = new LedgerLogger('info', readableLines(screen));
    runInRequest('req-12345678', () => logger.log('order placed', 'Orders'));
    logger.request({ method: 'POST', path: '/orders', status: 400, durationMs: 2, finished: true });
    logger.error(new Error('the gateway is away'), 'Refunds');
    const [placed, access, ...failure] = screen.text().split('\n');
    expect(placed).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[Orders\] order placed \(req-12345678\)$/);
    expect(access).toMatch(/INFO: \[HTTP\] POST \/orders 400 2 ms$/);
    expect(failure[0]).toMatch(/ERROR: \[Refunds\] the gateway is away$/);
    expect(failure.join('\n')).toContain('Error: the gateway is away');
    expect(screen.text()).not.toContain('"level"');
  });

  it('print text for a person where the lines go, after them, as it is', () => {
    const screen = terminal(true);
    const logger = new LedgerLogger('info', readableLines(screen));
    logger.log('listening', 'Ledger');
    logger.print('\nDemo mode: no real money.\n');
    expect(screen.text()).toMatch(/\[Ledger\] listening\n\nDemo mode: no real money\.\n$/);

    const json = capturedLogger('info');
    json.logger.log('listening', 'Ledger');
    json.logger.print('{"not":"a log line"}\n');
    expect(json.lines()).toEqual([expect.objectContaining({ msg: 'listening' }), { not: 'a log line' }]);
  });
});

describe('requestContext', () => {
  function handle(headers: Record<string, string>): { id: unknown; seenInside: string | undefined } {
    const { logger, lines } = capturedLogger();
    const responseHeaders: Record<string, unknown> = {};
    const response = {
      setHeader: (name: string, value: unknown) => (responseHeaders[name] = value),
      once: () => undefined,
    };
    requestContext(logger)({ headers, method: 'GET', url: '/x' } as never, response as never, () =>
      logger.log('inside', 'Test'),
    );
    return { id: responseHeaders['x-request-id'], seenInside: lines()[0].requestId as string | undefined };
  }

  it("keeps a sender's plain request id and logs under it", () => {
    expect(handle({ 'x-request-id': 'lb-4f1c2a9e' })).toEqual({
      id: 'lb-4f1c2a9e',
      seenInside: 'lb-4f1c2a9e',
    });
  });

  it('replaces an id that is not a plain token (it would end up in every log line)', () => {
    for (const given of ['short', 'has spaces in it', 'a'.repeat(65), 'x\n{"level":60}']) {
      const { id, seenInside } = handle({ 'x-request-id': given });
      expect(id).not.toBe(given);
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(seenInside).toBe(id);
    }
  });
});

describe('boundedRecord', () => {
  it('never exceeds the record budget, for any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), fc.string({ maxLength: 5_000 }), (value, text) => {
        const record = boundedRecord({ value, text, more: [text, text, text, text, text] });
        expect(JSON.stringify(record).length).toBeLessThan(LINE_BOUND);
      }),
      { numRuns: 200 },
    );
  });

  it('cuts deep structures and long lists, saying so', () => {
    const deep = { a: { b: { c: { d: { e: 1 } } } } };
    expect(boundedRecord(deep)).toEqual({ a: { b: { c: { d: '[…]' } } } });
    const list = boundedRecord(Array.from({ length: 60 }, (_, i) => i)) as unknown[];
    expect(list).toHaveLength(51);
    expect(list[50]).toBe('… (10 more items)');
  });
});
