// The error codes of batch refunds, per-record refund results, the gateway and payment requests
// (docs/alipay-protocol.md, "Error codes"), so that every code Alipay returns is surfaced with a meaning
// (docs/alipay-protocol.md, "Error codes").

/**
 * `gateway`: any service (signature, partner, parameters); `payment`: payment requests; `anti-phishing`:
 * the anti-phishing checks; `refund`: a batch refund as a whole (`<error>` of the nopwd reply);
 * `refund-record`: one record of `result_details`.
 */
export type AlipayErrorScope = 'gateway' | 'payment' | 'anti-phishing' | 'refund' | 'refund-record';

export interface AlipayErrorInfo {
  readonly code: string;
  readonly zh: string;
  readonly en: string;
  readonly scope: AlipayErrorScope;
  /**
   * Whether the same business request can succeed later without changing its data (a balance topped up,
   * a session or anti-phishing key renewed). `false` means the request must change, or the answer is final.
   */
  readonly retryable: boolean;
}

type Entry = readonly [zh: string, en: string, scope: AlipayErrorScope, retryable?: boolean];

const CATALOGUE: Readonly<Record<string, Entry>> = {
  // gateway
  ILLEGAL_SIGN: ['签名不正确', 'Signature is wrong (key, pre-sign string, sign_type or charset)', 'gateway'],
  ILLEGAL_SIGN_TYPE: ['签名类型不正确', 'sign_type is not valid', 'gateway'],
  ILLEGAL_PARTNER: ['合作伙伴ID不正确', 'partner id is wrong', 'gateway'],
  ILLEGAL_PARTNER_EXTERFACE: [
    '合作伙伴没有开通接口访问权限',
    'The service is not contracted or not active for this partner',
    'gateway',
  ],
  HAS_NO_PRIVILEGE: ['无权访问该服务', 'No permission for this service', 'gateway'],
  ILLEGAL_ARGUMENT: ['参数不正确', 'A parameter or its value format is wrong', 'gateway'],
  ILLEGAL_SERVICE: [
    '服务接口名称不正确',
    'The service name is wrong, or all parameters were lost',
    'gateway',
  ],
  ILLEGAL_DYN_MD5_KEY: ['动态密钥信息错误', 'Dynamic MD5 key is wrong', 'gateway'],
  ILLEGAL_ENCRYPT: ['加密不正确', 'Encryption is wrong', 'gateway'],
  ILLEGAL_USER: ['用户ID不正确', 'User id is wrong', 'gateway'],
  ILLEGAL_EXTERFACE: ['接口配置不正确', 'Service configuration is wrong', 'gateway'],
  ILLEGAL_SECURITY_PROFILE: ['未找到匹配的密钥配置', 'No matching key configuration', 'gateway'],
  ILLEGAL_AGENT: ['代理ID不正确', 'Agent id is wrong', 'gateway'],
  ILLEGAL_CHARSET: ['字符集不合法', '_input_charset is not valid', 'gateway'],
  ILLEGAL_CLIENT_IP: ['客户端IP地址无权访问服务', 'The client IP may not call this service', 'gateway'],
  SESSION_TIMEOUT: ['session超时', 'Session timed out', 'gateway', true],
  ILLEGAL_DIGEST_TYPE: ['摘要类型不正确', 'Digest type is wrong', 'gateway'],
  ILLEGAL_DIGEST: ['文件摘要不正确', 'File digest is wrong', 'gateway'],
  ILLEGAL_FILE_FORMAT: ['文件格式不正确', 'File format is wrong', 'gateway'],
  ILLEGAL_TARGET_SERVICE: ['目标服务不正确', 'Target service is wrong', 'gateway'],
  ILLEGAL_ACCESS_SWITCH_SYSTEM: [
    '商户不允许访问该类型的系统',
    'The merchant may not access this kind of system',
    'gateway',
  ],
  ILLEGAL_ENCODING: ['不支持该编码类型', 'Encoding not supported', 'gateway'],
  EXTERFACE_IS_CLOSED: ['接口已关闭', 'The service is closed', 'gateway'],
  EXTERFACE_INVOKE_CONTEXT_EXPIRED: [
    '接口调用上下文已过期',
    'The call context expired; start a new request',
    'gateway',
    true,
  ],
  ILLEGAL_REQUEST: ['请求不合法', 'Illegal request', 'gateway'],
  EXPARTNER_INFO_UNCORRECT: ['外部合作伙伴信息不正确', 'External partner information is wrong', 'gateway'],
  // payment requests
  ILLEGAL_FEE_PARAM: [
    '金额参数传递混乱或格式不正确',
    'Amount parameters are malformed or combined wrongly',
    'payment',
  ],
  TRADE_DATA_MATCH_ERROR: [
    '交易信息被篡改：同一订单号的请求数据不一致',
    'out_trade_no was sent again with different data (amount, subject, seller, logistics)',
    'payment',
  ],
  TRADE_NOT_ALLOWED_PAY: [
    '交易已关闭或已支付，不允许再支付',
    'The trade is closed or already paid',
    'payment',
  ],
  SELLER_NOT_EXIST: ['卖家不存在', 'seller_email or seller_id is wrong', 'payment'],
  SELLER_NOT_IN_SPECIFIED_SELLERS: [
    '卖家账号不是签约账号',
    'The seller account is not the contracted one',
    'payment',
  ],
  BUYER_SELLER_EQUAL: ['买卖家不能相同', 'Buyer and seller are the same account', 'payment'],
  ILLEGAL_LOGISTICS_FORMAT: ['物流参数格式不正确', 'Logistics parameters are malformed', 'payment'],
  ILLEGAL_PAYMENT_TYPE: ['支付类型不正确', 'payment_type is wrong', 'payment'],
  PRODUCT_NOT_EXIST: ['产品不存在', 'Product does not exist', 'payment'],
  LOGISTICS_CHOOSE_ERROR: ['物流选择错误', 'Logistics choice is wrong', 'payment'],
  SELF_TIMEOUT_NOT_SUPPORT: ['不支持自定义超时时间', 'Custom timeout is not supported', 'payment'],
  TRADE_BUYER_NOT_MATCH: ['买家与交易不匹配', 'The buyer does not match the trade', 'payment'],
  TRADE_SELLER_NOT_MATCH: ['卖家与交易不匹配', 'The seller does not match the trade', 'payment'],
  TOTAL_FEE_LESSEQUAL_ZERO: ['交易金额小于等于0', 'The total is zero or less', 'payment'],
  MAX_MONEY_COMPANY_TO_INDIVIDUAL: [
    '企业向个人付款超过单笔限额',
    'Company-to-individual payment above the limit (50,000)',
    'payment',
  ],
  TRADE_STATUS_NOT_AVAILD: [
    '交易状态不允许此操作',
    'The trade status does not allow this operation',
    'payment',
  ],
  // anti-phishing
  ILLEGAL_REQUEST_REFERER: [
    '防钓鱼检查不支持该请求来源',
    'Anti-phishing: request referer not allowed',
    'anti-phishing',
  ],
  ILLEGAL_ANTI_PHISHING_KEY: [
    '防钓鱼检查非法时间戳参数',
    'Anti-phishing: anti_phishing_key is not valid',
    'anti-phishing',
  ],
  ANTI_PHISHING_KEY_TIMEOUT: [
    '防钓鱼检查时间戳超时',
    'Anti-phishing: anti_phishing_key expired; get a new one',
    'anti-phishing',
    true,
  ],
  ILLEGAL_EXTER_INVOKE_IP: [
    '防钓鱼检查非法外部调用IP',
    'Anti-phishing: exter_invoke_ip is not valid',
    'anti-phishing',
  ],
  // batch refund
  BATCH_NUM_EXCEED_LIMIT: ['总笔数大于1000', 'More than 1000 records in the batch', 'refund'],
  REFUND_DATE_ERROR: ['退款日期错误', 'refund_date is wrong (not now, Beijing time)', 'refund'],
  BATCH_NUM_ERROR: ['批量退款笔数错误', 'batch_num is malformed', 'refund'],
  BATCH_NUM_NOT_EQUAL_TOTAL: [
    '退款笔数与明细解析出的笔数不一致',
    'batch_num differs from the records in detail_data',
    'refund',
  ],
  SINGLE_DETAIL_DATA_EXCEED_LIMIT: ['单笔退款明细超出限制', 'A single record exceeds the limits', 'refund'],
  NOT_THIS_SELLER_TRADE: ['不是当前卖家的交易', "The trade is not this seller's", 'refund'],
  DUBL_TRADE_NO_IN_SAME_BATCH: [
    '同一批退款中存在两条相同的交易',
    'The same trade appears twice in the batch',
    'refund',
  ],
  DUPLICATE_BATCH_NO: [
    '重复的批次号',
    'batch_no already used; after a timed-out call with the same batch_no it means the batch was accepted',
    'refund',
  ],
  TRADE_STATUS_ERROR: ['交易状态不允许退款', 'The trade status does not allow a refund', 'refund'],
  BATCH_NO_FORMAT_ERROR: [
    '批次号格式错误',
    'batch_no is malformed (today in Beijing + 3 to 24 characters)',
    'refund',
  ],
  SELLER_INFO_NOT_EXIST: ['卖家信息不存在', 'Seller information missing', 'refund'],
  PARTNER_NOT_SIGN_PROTOCOL: ['平台商未签署协议', 'The partner has not signed the agreement', 'refund'],
  NOT_THIS_PARTNERS_TRADE: [
    '退款明细非本合作伙伴的交易',
    "The record is not this partner's trade",
    'refund-record',
  ],
  DETAIL_DATA_FORMAT_ERROR: ['数据集参数格式错误', 'detail_data is malformed', 'refund'],
  PWD_REFUND_NOT_ALLOW_ROYALTY: [
    '有密接口退款不允许退分润',
    'The password refund cannot refund royalties',
    'refund',
  ],
  NANHANG_REFUND_CHARGE_AMOUNT_ERROR: [
    '退票面价金额不合法',
    'Airline face-value refund amount is not valid',
    'refund',
  ],
  REFUND_AMOUNT_NOT_VALID: ['退款金额不合法', 'Refund amount is not valid', 'refund'],
  TRADE_PRODUCT_TYPE_NOT_ALLOW_REFUND: [
    '交易类型不允许退款',
    'The trade type does not allow a refund',
    'refund',
  ],
  RESULT_FACE_AMOUNT_NOT_VALID: [
    '退款票面价不能大于支付票面价',
    'Refund face value above the paid face value',
    'refund',
  ],
  REFUND_CHARGE_FEE_ERROR: ['退收费金额不合法', 'Fee refund amount is not valid', 'refund'],
  REASON_REFUND_CHARGE_ERR: ['退收费失败', 'Fee refund failed', 'refund-record'],
  RESULT_AMOUNT_NOT_VALID: ['退收费金额错误', 'Fee refund amount is wrong', 'refund-record'],
  RESULT_ACCOUNT_NO_NOT_VALID: ['账号无效', 'Account is not valid', 'refund-record'],
  REASON_TRADE_REFUND_FEE_ERR: ['退款金额错误', 'Refund amount is wrong', 'refund-record'],
  REASON_HAS_REFUND_FEE_NOT_MATCH: [
    '已退款金额错误',
    'Already-refunded amount does not match',
    'refund-record',
  ],
  TXN_RESULT_ACCOUNT_STATUS_NOT_VALID: ['账户状态无效', 'Account status is not valid', 'refund-record'],
  TXN_RESULT_ACCOUNT_BALANCE_NOT_ENOUGH: [
    '账户余额不足',
    'Account balance is insufficient',
    'refund-record',
    true,
  ],
  REASON_REFUND_AMOUNT_LESS_THAN_COUPON_FEE: [
    '红包无法部分退款',
    'A coupon-paid trade cannot be partially refunded below the coupon',
    'refund-record',
  ],
  BUYER_ERROR: [
    '因买家支付宝账户问题不允许退款',
    "The buyer's account does not allow a refund",
    'refund-record',
  ],
  REFUND_TRADE_FEE_ERROR: ['退款失败', 'Refund failed', 'refund-record'],
  // per-record results seen in the wild
  SUCCESS: ['成功', 'Succeeded', 'refund-record'],
  SELLER_BALANCE_NOT_ENOUGH: ['卖家余额不足', "The seller's balance is insufficient", 'refund-record', true],
  TRADE_HAS_CLOSED: [
    '交易已关闭（通常已全额退款）',
    'The trade is closed, usually already fully refunded',
    'refund-record',
  ],
  REASON_REFUND_ROYALTY_ERROR: ['退分润错误', 'Royalty refund failed', 'refund-record'],
  CHECK_VALID_SUCCESS: ['校验成功', 'Royalty part validated', 'refund-record'],
};

/** Every code of the catalogue, keyed by code. */
export const ALIPAY_ERROR_CODES: Readonly<Record<string, AlipayErrorInfo>> = Object.fromEntries(
  Object.entries(CATALOGUE).map(([code, [zh, en, scope, retryable = false]]) => [
    code,
    { code, zh, en, scope, retryable },
  ]),
);

/**
 * The meaning of an Alipay code, or `undefined` for a code not in the catalogue (treat it as a failure,
 * docs/alipay-protocol.md, "Batch refund results"). Lower-case spellings (`seller_not_in_specified_sellers`,
 * docs/alipay-protocol.md, "Error codes") are found too.
 */
export function describeAlipayError(code: string): AlipayErrorInfo | undefined {
  if (typeof code !== 'string') return undefined;
  if (Object.hasOwn(ALIPAY_ERROR_CODES, code)) return ALIPAY_ERROR_CODES[code];
  const upper = code.toUpperCase();
  return Object.hasOwn(ALIPAY_ERROR_CODES, upper) ? ALIPAY_ERROR_CODES[upper] : undefined;
}

/** Whether the code is known and retryable; an unknown code is not. */
export function isRetryableAlipayError(code: string): boolean {
  return describeAlipayError(code)?.retryable ?? false;
}
