import { ALIPAY_ERROR_CODES, describeAlipayError, isRetryableAlipayError } from './error-codes';

// The codes listed in docs/alipay-protocol.md, "Error codes", copied from that document rather than from the
// catalogue.
const REFERENCE_CODES = `
ILLEGAL_USER BATCH_NUM_EXCEED_LIMIT REFUND_DATE_ERROR BATCH_NUM_ERROR BATCH_NUM_NOT_EQUAL_TOTAL
SINGLE_DETAIL_DATA_EXCEED_LIMIT NOT_THIS_SELLER_TRADE DUBL_TRADE_NO_IN_SAME_BATCH DUPLICATE_BATCH_NO
TRADE_STATUS_ERROR BATCH_NO_FORMAT_ERROR SELLER_INFO_NOT_EXIST PARTNER_NOT_SIGN_PROTOCOL NOT_THIS_PARTNERS_TRADE
DETAIL_DATA_FORMAT_ERROR PWD_REFUND_NOT_ALLOW_ROYALTY NANHANG_REFUND_CHARGE_AMOUNT_ERROR REFUND_AMOUNT_NOT_VALID
TRADE_PRODUCT_TYPE_NOT_ALLOW_REFUND RESULT_FACE_AMOUNT_NOT_VALID REFUND_CHARGE_FEE_ERROR REASON_REFUND_CHARGE_ERR
RESULT_AMOUNT_NOT_VALID RESULT_ACCOUNT_NO_NOT_VALID REASON_TRADE_REFUND_FEE_ERR REASON_HAS_REFUND_FEE_NOT_MATCH
TXN_RESULT_ACCOUNT_STATUS_NOT_VALID TXN_RESULT_ACCOUNT_BALANCE_NOT_ENOUGH REASON_REFUND_AMOUNT_LESS_THAN_COUPON_FEE
BUYER_ERROR REFUND_TRADE_FEE_ERROR SUCCESS SELLER_BALANCE_NOT_ENOUGH TRADE_HAS_CLOSED REASON_REFUND_ROYALTY_ERROR
CHECK_VALID_SUCCESS ILLEGAL_SIGN ILLEGAL_SIGN_TYPE ILLEGAL_PARTNER ILLEGAL_PARTNER_EXTERFACE HAS_NO_PRIVILEGE
ILLEGAL_ARGUMENT ILLEGAL_SERVICE ILLEGAL_FEE_PARAM TRADE_DATA_MATCH_ERROR TRADE_NOT_ALLOWED_PAY SELLER_NOT_EXIST
SELLER_NOT_IN_SPECIFIED_SELLERS BUYER_SELLER_EQUAL ILLEGAL_LOGISTICS_FORMAT ILLEGAL_PAYMENT_TYPE PRODUCT_NOT_EXIST
EXPARTNER_INFO_UNCORRECT LOGISTICS_CHOOSE_ERROR ILLEGAL_REQUEST SELF_TIMEOUT_NOT_SUPPORT TRADE_BUYER_NOT_MATCH
TRADE_SELLER_NOT_MATCH TOTAL_FEE_LESSEQUAL_ZERO MAX_MONEY_COMPANY_TO_INDIVIDUAL EXTERFACE_INVOKE_CONTEXT_EXPIRED
ILLEGAL_DYN_MD5_KEY ILLEGAL_ENCRYPT ILLEGAL_EXTERFACE ILLEGAL_SECURITY_PROFILE ILLEGAL_AGENT ILLEGAL_CHARSET
ILLEGAL_CLIENT_IP SESSION_TIMEOUT ILLEGAL_DIGEST_TYPE ILLEGAL_DIGEST ILLEGAL_FILE_FORMAT ILLEGAL_TARGET_SERVICE
ILLEGAL_ACCESS_SWITCH_SYSTEM ILLEGAL_ENCODING EXTERFACE_IS_CLOSED ILLEGAL_REQUEST_REFERER ILLEGAL_ANTI_PHISHING_KEY
ANTI_PHISHING_KEY_TIMEOUT ILLEGAL_EXTER_INVOKE_IP TRADE_STATUS_NOT_AVAILD
`
  .split(/\s+/)
  .filter((code) => code !== '');

describe('the Alipay error code catalogue', () => {
  it.each(REFERENCE_CODES)('describes %s in Chinese and English', (code) => {
    const info = describeAlipayError(code);
    expect(info?.code).toBe(code);
    expect(info?.zh).toMatch(/[\u4e00-\u9fff]/);
    expect(info?.en.length).toBeGreaterThan(5);
  });

  it('holds nothing but the reference codes', () => {
    expect(Object.keys(ALIPAY_ERROR_CODES).sort()).toEqual([...new Set(REFERENCE_CODES)].sort());
  });

  it('finds the lower-case spelling some gateways use', () => {
    expect(describeAlipayError('seller_not_in_specified_sellers')?.code).toBe(
      'SELLER_NOT_IN_SPECIFIED_SELLERS',
    );
  });

  it('knows nothing of other codes, prototype names included', () => {
    expect(describeAlipayError('SOMETHING_NEW')).toBeUndefined();
    expect(describeAlipayError('toString')).toBeUndefined();
    expect(describeAlipayError('__proto__')).toBeUndefined();
    expect(isRetryableAlipayError('SOMETHING_NEW')).toBe(false);
  });

  it('marks as retryable only what can succeed later unchanged', () => {
    expect(isRetryableAlipayError('SELLER_BALANCE_NOT_ENOUGH')).toBe(true);
    expect(isRetryableAlipayError('TXN_RESULT_ACCOUNT_BALANCE_NOT_ENOUGH')).toBe(true);
    expect(isRetryableAlipayError('ANTI_PHISHING_KEY_TIMEOUT')).toBe(true);
    expect(isRetryableAlipayError('ILLEGAL_SIGN')).toBe(false);
    expect(isRetryableAlipayError('DUPLICATE_BATCH_NO')).toBe(false);
    expect(isRetryableAlipayError('TRADE_DATA_MATCH_ERROR')).toBe(false);
  });

  it('scopes codes so that an edge can tell request errors from record results', () => {
    expect(describeAlipayError('ILLEGAL_SIGN')?.scope).toBe('gateway');
    expect(describeAlipayError('TRADE_DATA_MATCH_ERROR')?.scope).toBe('payment');
    expect(describeAlipayError('DUPLICATE_BATCH_NO')?.scope).toBe('refund');
    expect(describeAlipayError('TRADE_HAS_CLOSED')?.scope).toBe('refund-record');
  });
});
