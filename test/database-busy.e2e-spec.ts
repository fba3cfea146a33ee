import { randomBytes } from 'node:crypto';
import type { Pool } from 'pg';
import type { QueryRunner } from 'typeorm';
import { CommandBus } from '@nestjs/cqrs';
import { formatYuan } from '@ledger/alipay-protocol';
import { EventStore } from '@ledger/event-store';
import { PlaceOrderCommand } from '@ledger/commands';
import { loadConfig } from '@ledger/platform';
import {
  createTestDatabase,
  describeOnPostgres,
  newTradeNo,
  postNotification,
  signedNotification,
  startFakeAlipayGateway,
  tradeStatusSyncParams,
  type FakeAlipayGateway,
  type TestDatabase,
} from '@ledger/testing';
import { createLedgerApp, type LedgerApp } from '../apps/ledger/src/ledger-app';

const PARTNER = '2088123456789013';
const MD5_KEY = 'busytestkey0123456789abcdefghijk';
const POOL_SIZE = 4;
const ADMIN_TOKEN = 'database-busy-e2e-admin-token-0123456789';
const ACQUIRE_TIMEOUT_MS = 1_000;

describeOnPostgres('the ledger with every pooled connection busy', () => {
  let database: TestDatabase;
  let gateway: FakeAlipayGateway;
  let ledger: LedgerApp;
  let baseUrl: string;
  const held: QueryRunner[] = [];

  beforeAll(async () => {
    database = await createTestDatabase('busy', { migrated: true });
    gateway = await startFakeAlipayGateway({ partner: PARTNER, md5Keys: [MD5_KEY] });
    const config = loadConfig(
      {
        DATABASE_URL: database.url!,
        DATABASE_POOL_SIZE: String(POOL_SIZE),
        DATABASE_ACQUIRE_TIMEOUT_MS: String(ACQUIRE_TIMEOUT_MS),
        ALIPAY_PARTNER: PARTNER,
        ALIPAY_KEY: MD5_KEY,
        ALIPAY_GATEWAY: gateway.url,
        PUBLIC_BASE_URL: 'https://ledger.example.com',
        ADMIN_TOKEN,
        FULFILMENT_WORKER: 'false',
        LOG_LEVEL: 'fatal',
      },
      { envFile: false },
    );
    ledger = await createLedgerApp(config);
    await ledger.app.listen(0, '127.0.0.1');
    baseUrl = await ledger.app.getUrl();
  });

  afterAll(async () => {
    await Promise.all(held.splice(0).map((runner) => runner.release()));
    await ledger?.close();
    await gateway?.close();
    await database?.close();
  });

  /**
   * Takes every connection the pool has left into an open transaction: all but the two the projectors pin
   * (the projections' and the process managers' consumers', which run even without FULFILMENT_WORKER). A worker's pass may hold one for a moment, so the held ones are counted, not the idle ones; then
   * the pool is seen full and without an idle connection.
   */
  async function holdEveryConnection(): Promise<void> {
    const { dataSource } = ledger.database;
    const pool = (dataSource.driver as unknown as { master: Pool }).master;
    while (held.length < POOL_SIZE - 2) {
      const runner = dataSource.createQueryRunner();
      await runner.connect();
      await runner.startTransaction();
      held.push(runner);
    }
    const deadline = Date.now() + 5_000;
    while (pool.totalCount < POOL_SIZE || pool.idleCount > 0) {
      if (Date.now() > deadline) throw new Error('the projectors did not pin their connections');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async function releaseEveryConnection(): Promise<void> {
    await Promise.all(
      held.splice(0).map(async (runner) => {
        await runner.rollbackTransaction();
        await runner.release();
      }),
    );
  }

  it('answers 503 with Retry-After within the acquire timeout, and fail to Alipay, storing nothing', async () => {
    const outTradeNo = `busy-${randomBytes(5).toString('hex')}`;
    await ledger.app.get(CommandBus).execute(
      new PlaceOrderCommand({
        type: 'PlaceOrder',
        outTradeNo,
        subject: `order ${outTradeNo}`,
        totalFee: 1000,
        service: 'create_direct_pay_by_user',
        sellerId: PARTNER,
        requestParameters: { out_trade_no: outTradeNo, total_fee: formatYuan(1000) },
        placedAt: new Date().toISOString(),
      }),
    );
    const notification = signedNotification(
      tradeStatusSyncParams({
        outTradeNo,
        tradeNo: newTradeNo(),
        tradeStatus: 'TRADE_SUCCESS',
        totalFee: formatYuan(1000),
        sellerId: PARTNER,
      }),
      MD5_KEY,
    );

    await holdEveryConnection();
    let started = Date.now();
    const api = await fetch(`${baseUrl}/admin/orders/${outTradeNo}`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    const apiMs = Date.now() - started;
    expect(api.status).toBe(503);
    expect(api.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await api.json()).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'the database cannot answer now; retry later',
    });
    expect(apiMs).toBeGreaterThanOrEqual(ACQUIRE_TIMEOUT_MS - 50);
    expect(apiMs).toBeLessThan(ACQUIRE_TIMEOUT_MS * 4);

    started = Date.now();
    const refused = await fetch(`${baseUrl}/alipay/notify`, {
      method: 'POST',
      headers: { 'content-type': notification.contentType },
      body: new Uint8Array(notification.body),
    });
    expect(await refused.text()).toBe('fail');
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(Date.now() - started).toBeLessThan(ACQUIRE_TIMEOUT_MS * 4);
    await releaseEveryConnection();

    const store = ledger.app.get(EventStore);
    // Not acknowledged, and not applied either.
    expect((await store.readStream(`order-${outTradeNo}`)).map((event) => event.type)).toEqual([
      'OrderPlaced',
    ]);
    // Alipay's retry of the same notification goes through once the pool is free.
    expect((await postNotification(`${baseUrl}/alipay/notify`, notification)).text).toBe('success');
    const types = (await store.readStream(`order-${outTradeNo}`)).map((event) => event.type);
    expect(types.filter((type) => type === 'PaymentSucceeded')).toHaveLength(1);
  });
});
