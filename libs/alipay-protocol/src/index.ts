export {
  TRADE_STATUSES,
  REFUND_STATUSES,
  isTradeStatus,
  isRefundStatus,
  tradeStatusRank,
  isPaidStatus,
  isTerminalTradeStatus,
  inferPaymentType,
  refundOutcome,
  isExpectedRefundTransition,
} from './status';
export type { TradeStatus, RefundStatus, PaymentType, RefundOutcome } from './status';
export { ok, fail, failWith } from './errors';
export type { ProtocolError, ProtocolErrorCode, Result, Failure } from './errors';
export { MAX_AMOUNT_FEN, parseYuan, formatYuan, isRequestAmount } from './money';
export type { ParseYuanOptions } from './money';
export { parseBeijingTime, formatBeijingTime, formatBeijingCompactDate, isCompactDate } from './beijing-time';
export { CHARSETS, charsetFromLabel, decodeBytes, decodesCleanly, encodeText } from './charset';
export type { Charset } from './charset';
export {
  parseForm,
  detectCharset,
  contentTypeCharsetLabel,
  decodePairs,
  encodeForm,
  percentEncodeBytes,
} from './form-encoding';
export type {
  ParseFormOptions,
  FormPair,
  FormIssue,
  ParsedForm,
  RawFormPair,
  RawParsedForm,
  CharsetSource,
  CharsetChoice,
  TextParam,
} from './form-encoding';
export {
  isSignType,
  isMd5Key,
  preSignFromBytes,
  preSignFromText,
  preSignString,
  md5Sign,
  verifyMd5,
  rsaSign,
  verifyRsa,
  parseRsaPublicKey,
  parseRsaPrivateKey,
  signBytes,
  signParams,
} from './signing';
export type {
  SignType,
  ExclusionReason,
  ExcludedParam,
  PreSign,
  ByteParam,
  KeyAttempt,
  SignatureCheck,
  SigningKey,
  SignedParams,
} from './signing';
export { MAX_NOTIFICATION_PARAMETERS, MAX_PARAMETER_NAME_BYTES, verifyNotification } from './verification';
export { MAX_EXPLANATION_BYTES } from './explanation-bounds';
export type {
  ExplanationList,
  VerificationSource,
  VerificationOptions,
  VerificationReason,
  VerificationExplanation,
  VerificationResult,
} from './verification';
export {
  MAX_BATCH_RECORDS,
  formatBatchNo,
  parseBatchNo,
  buildDetailData,
  parseDetailData,
  parseResultDetails,
  formatResultDetails,
  refundResultOutcome,
} from './batch-refund';
export type {
  BatchNo,
  RefundService,
  RefundDetail,
  RoyaltyRefund,
  SubTradeRefund,
  DetailDataOptions,
  DetailData,
  DbackResult,
  RefundResult,
  FeeRefundResult,
  RoyaltyRefundResult,
  SubTradeRefundResult,
} from './batch-refund';
export { parseTradeStatusSync, parseBatchRefundNotify, parseNotification } from './notifications';
export type {
  NotificationParams,
  AlipayFlag,
  TradeStatusSync,
  BatchRefundNotify,
  Notification,
} from './notifications';
export {
  ALIPAY_GATEWAY,
  LOGISTICS_TYPES,
  LOGISTICS_PAYMENTS,
  TRANSPORT_TYPES,
  buildDirectPayRequest,
  buildTradeCreateByBuyerRequest,
  buildRefundPwdRequest,
  buildRefundNopwdRequest,
  buildSendGoodsConfirmRequest,
  buildNotifyVerifyUrl,
  buildSingleTradeQueryRequest,
  isNotifyVerified,
  renderAutoSubmitForm,
  escapeHtml,
} from './requests';
export type {
  MerchantConfig,
  SignedRequest,
  Seller,
  DirectPayOrder,
  DualPayOrder,
  Logistics,
  LogisticsType,
  LogisticsPayment,
  Receiver,
  PwdRefund,
  NopwdRefund,
  SendGoods,
  TransportType,
  NotifyVerifyRequest,
  AutoSubmitPage,
  TradeQuery,
} from './requests';
export { parseGatewayReply } from './xml-replies';
export {
  MAX_TRADE_FIELDS,
  MAX_TRADE_FIELD_NAME,
  TRADE_NOT_FOUND_CODES,
  parseSingleTradeQueryReply,
  formatSingleTradeQueryReply,
  formatGatewayErrorReply,
} from './single-trade-query';
export type {
  SingleTradeQueryOptions,
  SingleTradeQueryReply,
  QueryVerification,
  QueryVerificationOutcome,
  QueriedTrade,
  TradeQueryAnswer,
} from './single-trade-query';
export type { GatewayReply, XmlValue } from './xml-replies';
export { ALIPAY_ERROR_CODES, describeAlipayError, isRetryableAlipayError } from './error-codes';
export type { AlipayErrorInfo, AlipayErrorScope } from './error-codes';
