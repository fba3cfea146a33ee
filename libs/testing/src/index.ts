export {
  type TestDatabase,
  createTestDatabase,
  describeOnEmbedded,
  describeOnPostgres,
  testDatabaseKind,
  testDatabaseUrlFor,
} from './test-database';
export { TEST_MIGRATIONS } from './test-migrations';
export {
  type FakeAlipayGateway,
  type FakeGatewayAnswer,
  type FakeGatewayOptions,
  type FakeGatewayRequest,
  type FakeGatewayService,
  startFakeAlipayGateway,
} from './fake-alipay-gateway';
export {
  type SignedNotification,
  type TradeStatusSyncFacts,
  newNotifyId,
  newTradeNo,
  postNotification,
  signedNotification,
  tradeStatusSyncParams,
} from './signed-notification';
export { freePort } from './free-port';
export { type CommandPath, startCommandPath } from './command-path';
export { csvObjects, parseCsv } from './csv';
