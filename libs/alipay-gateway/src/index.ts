export { AlipayGateway, merchantOf } from './alipay-gateway';
export type {
  AlipayGatewayOptions,
  CallOptions,
  GatewayAcceptance,
  NotifyVerifyAnswer,
  TradeQueryResult,
} from './alipay-gateway';
export { AlipayGatewayModule } from './alipay-gateway.module';
export { GatewayError } from './gateway-error';
export type { GatewayErrorCode, GatewayErrorDetails } from './gateway-error';
