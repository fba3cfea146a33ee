import {
  MAX_BATCH_RECORDS,
  parseBatchNo,
  parseBeijingTime,
  parseDetailData,
  type RefundDetail,
  type RefundService,
} from '@ledger/alipay-protocol';
import type { SandboxMerchant } from '../sandbox-options';
import { refused, type Reading } from './payment-request';

// The synchronous checks of a batch refund request (docs/alipay-protocol.md, "Batch refund requests",
// "nopwd answer", "batch_no" and "detail_data"): what Alipay refuses before it accepts a batch. What happens
// to each trade is decided later and reported per record in result_details.

/** A batch refund request that passed the checks. Amounts in fen. */
export interface RefundDraft {
  readonly service: RefundService;
  readonly batchNo: string;
  readonly refundDate: Date;
  readonly records: readonly RefundDetail[];
  readonly notifyUrl?: string;
}

const BATCH_NUM = /^[1-9][0-9]{0,6}$/;
const URL = /^https?:\/\/[^\s]+$/;
const DAY_MS = 24 * 3_600_000;

/**
 * Reads `refund_fastpay_by_platform_pwd` / `_nopwd` parameters. `refund_date` must be the current time
 * (within a day of the sandbox clock) and `batch_no` dated its Beijing day. The sandbox refunds trade
 * records only: royalty and sub-trade parts are refused rather than pretended.
 */
export function readRefundRequest(
  service: RefundService,
  params: Record<string, string>,
  merchant: SandboxMerchant,
  now: Date,
): Reading<RefundDraft> {
  const batchNo = params.batch_no ?? '';
  if (!parseBatchNo(batchNo).ok) {
    return refused(
      'BATCH_NO_FORMAT_ERROR',
      `batch_no ${JSON.stringify(batchNo)} is not yyyyMMdd + 3 to 24 digits`,
    );
  }
  const refundDate = parseBeijingTime(params.refund_date ?? '', 'refund_date');
  if (!refundDate.ok || Math.abs(refundDate.value.getTime() - now.getTime()) > DAY_MS) {
    return refused(
      'REFUND_DATE_ERROR',
      'refund_date must be the current time, yyyy-MM-dd HH:mm:ss in Beijing',
    );
  }
  if (!parseBatchNo(batchNo, refundDate.value).ok) {
    return refused('BATCH_NO_FORMAT_ERROR', `batch_no must start with the refund date's Beijing day`);
  }
  const batchNum = params.batch_num ?? '';
  if (!BATCH_NUM.test(batchNum))
    return refused('BATCH_NUM_ERROR', 'batch_num is not a positive whole number');
  if (Number(batchNum) > MAX_BATCH_RECORDS) {
    return refused('BATCH_NUM_EXCEED_LIMIT', `batch_num ${batchNum} exceeds ${MAX_BATCH_RECORDS}`);
  }
  const detail = parseDetailData(params.detail_data ?? '');
  if (!detail.ok) {
    const codes = new Set(detail.errors.map((error) => error.code));
    const message = detail.errors.map((error) => `${error.field ?? ''}: ${error.message}`).join('; ');
    if (codes.has('TOO_MANY_RECORDS')) return refused('BATCH_NUM_EXCEED_LIMIT', message);
    const amountsOnly = [...codes].every(
      (code) => code === 'MALFORMED_AMOUNT' || code === 'AMOUNT_OUT_OF_RANGE',
    );
    return refused(amountsOnly ? 'REFUND_AMOUNT_NOT_VALID' : 'DETAIL_DATA_FORMAT_ERROR', message);
  }
  const records = detail.value;
  if (records.length !== Number(batchNum)) {
    return refused(
      'BATCH_NUM_NOT_EQUAL_TOTAL',
      `batch_num is ${batchNum} but detail_data holds ${records.length} records`,
    );
  }
  const seen = new Set<string>();
  for (const record of records) {
    if (seen.has(record.tradeNo)) {
      return refused('DUBL_TRADE_NO_IN_SAME_BATCH', `trade ${record.tradeNo} appears twice in the batch`);
    }
    seen.add(record.tradeNo);
  }
  const withParts = records.some((record) => record.royalties !== undefined || record.subTrade !== undefined);
  if (withParts && service === 'pwd') {
    return refused('PWD_REFUND_NOT_ALLOW_ROYALTY', 'the password refund takes trade records only');
  }
  if (withParts) {
    return refused(
      'ILLEGAL_ARGUMENT',
      'the sandbox refunds trade records only (no royalty or sub-trade parts)',
    );
  }
  if (service === 'pwd') {
    const sellerUserId = params.seller_user_id;
    const sellerEmail = params.seller_email;
    const known =
      sellerUserId !== undefined && sellerUserId !== ''
        ? sellerUserId === merchant.partner
        : sellerEmail !== undefined &&
          sellerEmail !== '' &&
          (merchant.sellerEmail === undefined || sellerEmail === merchant.sellerEmail);
    if (!known) {
      return refused('SELLER_INFO_NOT_EXIST', 'seller_user_id (or seller_email) does not name this partner');
    }
  }
  const notifyUrl = params.notify_url;
  if (notifyUrl !== undefined && notifyUrl !== '' && !URL.test(notifyUrl)) {
    return refused('ILLEGAL_ARGUMENT', 'notify_url is not an http(s) URL');
  }
  return {
    ok: true,
    value: {
      service,
      batchNo,
      refundDate: refundDate.value,
      records,
      ...(notifyUrl === undefined || notifyUrl === '' ? {} : { notifyUrl }),
    },
  };
}
