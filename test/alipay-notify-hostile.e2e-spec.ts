import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { MAX_EXPLANATION_BYTES } from '@ledger/alipay-protocol';
import { MAX_NOTIFICATION_BYTES } from '@ledger/inbox';
import { newNotifyId, newTradeNo, signedNotification, tradeStatusSyncParams } from '@ledger/testing';
import {
  FORGED_KEY,
  eventTypes,
  inboxRows,
  lastInboxRow,
  newOutTradeNo,
  notify,
  placeOrder,
  postRaw,
  startLedger,
  tradeNotification,
  type RunningLedger,
} from './alipay-notify.fixture';

/** What the inbox keeps of a refused body (docs/operations.md, "Bounded storage"). */
const REFUSED_BODY_EVIDENCE_BYTES = 64 * 1024;

/** A form-like body: `a=aaaa…&a=aaaa…`, the same bytes for the same length. */
function evidenceOf(length: number): Buffer {
  const body = Buffer.alloc(length, 'a');
  for (let i = 1; i < length; i += 4096) body[i] = 0x3d; // '='
  for (let i = 2048; i < length; i += 4096) body[i] = 0x26; // '&'
  return body;
}

/**
 * POSTs to the notify URL with `headers`, writes `sendBytes` of body and never ends the request: resolves
 * with the reply, which therefore came before the body was complete. Writes refused once the server closed
 * the connection are ignored.
 */
function postUnfinished(
  running: RunningLedger,
  headers: Record<string, string>,
  sendBytes: number,
): Promise<{ status: number; text: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const url = new URL('/alipay/notify', running.baseUrl);
    const request = httpRequest(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        resolve({
          status: response.statusCode ?? 0,
          text: Buffer.concat(chunks).toString('utf8'),
          connection: response.headers.connection,
        });
        request.destroy();
      });
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET') reject(error);
    });
    const body = evidenceOf(sendBytes);
    for (let offset = 0; offset < body.length; offset += 16 * 1024) {
      request.write(body.subarray(offset, offset + 16 * 1024));
    }
  });
}

// Forged, tampered and hostile input at the notify edge: every one is answered `fail`
// (or a 4xx), kept in the inbox with its reason where possible, and hurts neither the server nor other
// orders. Verification is over the raw bytes, whatever the Content-Type says (docs/alipay-protocol.md,
// "Raw bodies").

describe('the notify edge under forged and hostile input', () => {
  let running: RunningLedger;

  beforeAll(async () => {
    running = await startLedger('alipay_hostile');
  });

  afterAll(async () => {
    await running?.close();
  });

  it('refuses a notification signed with another key, without asking the gateway', async () => {
    const outTradeNo = newOutTradeNo('FORGED');
    const notifyId = newNotifyId();
    await placeOrder(running.commands, outTradeNo);
    const forged = tradeNotification(
      { outTradeNo, tradeNo: newTradeNo(), tradeStatus: 'TRADE_SUCCESS', totalFee: '12.34', notifyId },
      FORGED_KEY,
    );
    expect(await notify(running, forged)).toEqual({ status: 400, text: 'fail' });
    expect(await eventTypes(running, outTradeNo)).toEqual(['OrderPlaced']);
    const [row] = await inboxRows(running, outTradeNo);
    expect(row).toMatchObject({
      outcome: 'rejected',
      verified: false,
      outcomeDetail: { reason: 'signature' },
      verification: { outcome: 'SIGNATURE_MISMATCH' },
    });
    expect(running.gateway.requestsFor('notify_verify', notifyId)).toHaveLength(0);
  });

  it('refuses a genuine notification whose amount was changed in transit', async () => {
    const outTradeNo = newOutTradeNo('TAMPERED');
    await placeOrder(running.commands, outTradeNo, { totalFee: 100_00 });
    const genuine = tradeNotification({
      outTradeNo,
      tradeNo: newTradeNo(),
      tradeStatus: 'TRADE_SUCCESS',
      totalFee: '0.01',
    });
    const tampered = genuine.text.replace('total_fee=0.01', 'total_fee=100.00');
    expect(tampered).not.toBe(genuine.text);
    expect(await postRaw(running, tampered, genuine.contentType)).toEqual({ status: 400, text: 'fail' });
    expect(await eventTypes(running, outTradeNo)).toEqual(['OrderPlaced']);
    expect((await inboxRows(running, outTradeNo))[0]).toMatchObject({ outcome: 'rejected', verified: false });
  });

  it('refuses a notification Alipay says it did not send, and fails over to a retry when the gateway is down', async () => {
    const outTradeNo = newOutTradeNo('NOTIFY-VERIFY');
    const tradeNo = newTradeNo();
    await placeOrder(running.commands, outTradeNo);

    const unknownId = newNotifyId();
    running.gateway.script('notify_verify', unknownId, 'false');
    const notSent = tradeNotification({
      outTradeNo,
      tradeNo,
      tradeStatus: 'TRADE_SUCCESS',
      totalFee: '12.34',
      notifyId: unknownId,
    });
    expect(await notify(running, notSent)).toEqual({ status: 400, text: 'fail' });

    const flakyId = newNotifyId();
    // Down twice: a call cut on a kept-alive connection is asked again once, on a fresh one.
    running.gateway.script('notify_verify', flakyId, 'down', 'down', 'true');
    const genuine = tradeNotification({
      outTradeNo,
      tradeNo,
      tradeStatus: 'TRADE_SUCCESS',
      totalFee: '12.34',
      notifyId: flakyId,
    });
    expect(await notify(running, genuine)).toEqual({ status: 503, text: 'fail' });
    expect(await eventTypes(running, outTradeNo)).toEqual(['OrderPlaced']);
    // Alipay retries the same notification: this time the gateway answers.
    expect(await notify(running, genuine)).toEqual({ status: 200, text: 'success' });
    expect(await eventTypes(running, outTradeNo)).toEqual(['OrderPlaced', 'PaymentSucceeded']);

    const rows = await inboxRows(running, outTradeNo);
    expect(
      rows.map((row) => [
        row.outcome,
        row.verified,
        row.outcomeDetail?.outcome === 'applied'
          ? ''
          : row.outcomeDetail && 'reason' in row.outcomeDetail
            ? row.outcomeDetail.reason
            : '',
      ]),
    ).toEqual([
      ['rejected', false, 'notify_verify'],
      ['failed', null, 'notify_verify_unavailable'],
      ['applied', true, ''],
    ]);
    expect(rows[0].notifyVerify).toMatchObject({ answer: false, body: 'false' });
    expect(rows[1].notifyVerify).toMatchObject({ answer: null, error: { code: 'UNREACHABLE' } });
  });

  it.each([
    ['an empty body', Buffer.alloc(0), 'application/x-www-form-urlencoded'],
    ['no Content-Type at all', Buffer.from('a=1&b=2'), undefined],
    [
      'JSON',
      Buffer.from(JSON.stringify({ out_trade_no: 'X', trade_status: 'TRADE_SUCCESS' })),
      'application/json',
    ],
    ['binary noise', randomBytes(4096), 'application/octet-stream'],
    [
      'NUL bytes and broken escapes',
      Buffer.from('notify_id=%00%00&sign=%zz&out_trade_no=a%00b&%00=x'),
      'application/x-www-form-urlencoded',
    ],
    [
      'a body under a multipart Content-Type',
      Buffer.from('--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--'),
      'multipart/form-data; boundary=x',
    ],
    [
      'an SQL fragment',
      Buffer.from("out_trade_no=1'; DROP TABLE events; --&sign=x&sign_type=MD5"),
      'application/x-www-form-urlencoded; text/html; charset=UTF-8',
    ],
  ])('answers fail to %s and keeps its exact bytes', async (_name, body, contentType) => {
    const reply = await postRaw(running, body, contentType);
    expect(reply).toEqual({ status: 400, text: 'fail' });
    const row = await lastInboxRow(running);
    expect(row).toMatchObject({
      outcome: 'rejected',
      outcomeDetail: { reason: 'signature' },
      verified: false,
    });
    expect(Buffer.from(row.body.base64!, 'base64').equals(body)).toBe(true);
    expect(row.contentType).toBe(contentType ?? null);
  });

  it('answers 413 at once to a declared Content-Length over 1 MiB, without reading the body', async () => {
    const declared = 2 * MAX_NOTIFICATION_BYTES;
    // Only the first kilobyte is ever sent: the answer must not wait for the rest.
    const reply = await postUnfinished(running, { 'content-length': String(declared) }, 1024);
    expect(reply).toEqual({ status: 413, text: 'fail', connection: 'close' });
    const row = await lastInboxRow(running);
    expect(row).toMatchObject({
      outcome: 'rejected',
      outcomeDetail: { reason: 'body_too_large', declaredBytes: declared },
      body: { byteLength: 0, receivedBytes: 0, truncated: true },
      headers: { 'content-length': String(declared) },
    });
  });

  it('answers 413 to a chunked body once it passes 1 MiB, keeping its first 64 KiB', async () => {
    const sent = MAX_NOTIFICATION_BYTES + 256 * 1024;
    const reply = await postUnfinished(running, { 'transfer-encoding': 'chunked' }, sent);
    expect(reply).toEqual({ status: 413, text: 'fail', connection: 'close' });
    const row = await lastInboxRow(running);
    expect(row).toMatchObject({
      outcome: 'rejected',
      outcomeDetail: { reason: 'body_too_large' },
      body: { byteLength: REFUSED_BODY_EVIDENCE_BYTES, truncated: true },
    });
    expect(row.body.receivedBytes).toBeGreaterThan(MAX_NOTIFICATION_BYTES);
    expect(row.body.receivedBytes).toBeLessThanOrEqual(sent);
    expect(Buffer.from(row.body.base64!, 'base64').equals(evidenceOf(REFUSED_BODY_EVIDENCE_BYTES))).toBe(
      true,
    );
  });

  it('still takes a body of exactly 1 MiB (rejected for its signature, kept whole)', async () => {
    const body = evidenceOf(MAX_NOTIFICATION_BYTES);
    expect(await postRaw(running, body, 'application/x-www-form-urlencoded')).toEqual({
      status: 400,
      text: 'fail',
    });
    const row = await lastInboxRow(running);
    expect(row).toMatchObject({ body: { byteLength: MAX_NOTIFICATION_BYTES, truncated: false } });
  });

  describe('worst-case bodies of up to 1 MB (docs/operations.md, "Hostile input")', () => {
    const SIZE = 1024 * 1024 - 1024;
    const signed = `sign=${'0'.repeat(32)}&sign_type=MD5&`;
    const joined = (unit: (i: number) => string, size = SIZE) => {
      const parts: string[] = [];
      for (let i = 0, length = 0; length < size; i++) length += parts[parts.push(unit(i)) - 1].length + 1;
      return Buffer.from(parts.join('&').slice(0, size), 'latin1');
    };
    const value = (prefix: string, unit: string) =>
      Buffer.from(`${prefix}${unit.repeat(Math.ceil(SIZE / unit.length))}`.slice(0, SIZE), 'latin1');
    const worstCases: [string, Buffer, string][] = [
      [
        '50,000 empty names',
        Buffer.from(Array.from({ length: 50_000 }, (_, i) => `p${i}`).join('&')),
        'TOO_MANY_PARAMETERS',
      ],
      ['many empty names', joined((i) => `p${i}`), 'TOO_MANY_PARAMETERS'],
      ['many duplicates', joined(() => 'a=1'), 'TOO_MANY_PARAMETERS'],
      ['many =value', joined(() => '=x'), 'TOO_MANY_PARAMETERS'],
      ['many &', Buffer.alloc(SIZE, '&'), 'EMPTY_INPUT'],
      ['a huge name', value('', 'n'), 'PARAMETER_NAME_TOO_LONG'],
      ['a long value', value(`${signed}v=`, 'a'), 'SIGNATURE_MISMATCH'],
      ['deep escapes', value(`${signed}v=`, '%25'), 'SIGNATURE_MISMATCH'],
      ['lone %', value(`${signed}v=`, '%'), 'SIGNATURE_MISMATCH'],
      ['%u escapes', value(`${signed}v=`, '%u0041'), 'SIGNATURE_MISMATCH'],
      ['invalid GBK', value(`_input_charset=gbk&${signed}v=`, '%81%FF'), 'SIGNATURE_MISMATCH'],
      ['NULs', value(`${signed}v=`, '%00'), 'SIGNATURE_MISMATCH'],
    ];

    it.each(worstCases)('answers fail to %s and records why', async (_name, body, outcome) => {
      expect(body.length).toBeLessThanOrEqual(SIZE + 1024);
      expect(await postRaw(running, body, 'application/x-www-form-urlencoded')).toEqual({
        status: 400,
        text: 'fail',
      });
      const row = await lastInboxRow(running);
      expect(row).toMatchObject({
        outcome: 'rejected',
        verified: false,
        outcomeDetail: { reason: 'signature' },
        verification: { outcome },
      });
      expect(Buffer.byteLength(JSON.stringify(row.verification))).toBeLessThanOrEqual(MAX_EXPLANATION_BYTES);
    });

    it('answers /health while worst-case bodies stream in', async () => {
      const stream = Promise.all(
        [0, 1].map(async (client) => {
          for (let i = client; i < worstCases.length; i += 2) {
            await postRaw(running, worstCases[i][1], 'application/x-www-form-urlencoded');
          }
        }),
      );
      // A generous timeout: it tells an answered request from a frozen process, it measures nothing.
      const health = await fetch(`${running.baseUrl}/health`, { signal: AbortSignal.timeout(5000) });
      expect(health.status).toBe(200);
      await stream;
    });
  });

  it('refuses a genuine notification whose out_trade_no no order can have', async () => {
    const hostile = tradeNotification({
      outTradeNo: "1' OR '1'='1",
      tradeNo: newTradeNo(),
      tradeStatus: 'TRADE_SUCCESS',
      totalFee: '12.34',
    });
    expect(await notify(running, hostile)).toEqual({ status: 400, text: 'fail' });
    expect(await lastInboxRow(running)).toMatchObject({
      outcome: 'rejected',
      outcomeDetail: { reason: 'invalid_out_trade_no' },
      outTradeNo: "1' OR '1'='1",
    });
  });

  it('refuses a signed notification whose fields do not parse, naming them', async () => {
    const outTradeNo = newOutTradeNo('MALFORMED');
    const malformed = tradeNotification({
      outTradeNo,
      tradeNo: newTradeNo(),
      tradeStatus: 'TRADE_SOMETHING_NEW',
      totalFee: '12.3456',
    });
    expect(await notify(running, malformed)).toEqual({ status: 400, text: 'fail' });
    const [row] = await inboxRows(running, outTradeNo);
    expect(row.outcomeDetail).toMatchObject({ outcome: 'rejected', reason: 'malformed' });
    const fields =
      row.outcomeDetail?.outcome === 'rejected' ? row.outcomeDetail.errors?.map((e) => e.field) : [];
    expect(fields).toEqual(expect.arrayContaining(['trade_status', 'total_fee']));
  });

  it('verifies a GBK merchant over the bytes it sent, under a Content-Type a stock parser would refuse', async () => {
    const outTradeNo = newOutTradeNo('GBK');
    await placeOrder(running.commands, outTradeNo);
    const gbk = signedNotification(
      tradeStatusSyncParams({
        outTradeNo,
        tradeNo: newTradeNo(),
        tradeStatus: 'TRADE_SUCCESS',
        totalFee: '12.34',
        subject: '测试 商品+1',
      }),
      undefined,
      'gbk',
    );
    expect(gbk.contentType).toContain('charset=GBK');
    expect(await notify(running, gbk)).toEqual({ status: 200, text: 'success' });
    const [row] = await inboxRows(running, outTradeNo);
    expect(row.verification).toMatchObject({ charset: 'gbk', outcome: 'VERIFIED' });
    expect(row.body.params.find((p) => p.name === 'subject')?.value).toBe('测试 商品+1');

    // The same bytes announced as UTF-8 still verify (the signature is over bytes), and are a duplicate.
    const mislabelled = await postRaw(running, gbk.body, 'application/x-www-form-urlencoded; charset=UTF-8');
    expect(mislabelled).toEqual({ status: 200, text: 'success' });
    expect(await eventTypes(running, outTradeNo)).toEqual(['OrderPlaced', 'PaymentSucceeded']);
  });

  it('still serves genuine notifications after all of that', async () => {
    const outTradeNo = newOutTradeNo('AFTER');
    await placeOrder(running.commands, outTradeNo);
    const genuine = tradeNotification({
      outTradeNo,
      tradeNo: newTradeNo(),
      tradeStatus: 'TRADE_SUCCESS',
      totalFee: '12.34',
    });
    expect(await notify(running, genuine)).toEqual({ status: 200, text: 'success' });
    const health = await fetch(`${running.baseUrl}/health`);
    expect(health.status).toBe(200);
  });
});
