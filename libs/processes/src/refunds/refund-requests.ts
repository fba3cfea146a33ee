import { Injectable } from '@nestjs/common';
import {
  buildRefundPwdRequest,
  encodeText,
  type Charset,
  type MerchantConfig,
  type NopwdRefund,
  type SignedRequest,
} from '@ledger/alipay-protocol';
import type { RefundBatchSubmitted } from '@ledger/domain';
import { merchantOf } from '@ledger/alipay-gateway';
import { LedgerConfig } from '@ledger/platform';

// docs/alipay-protocol.md, "detail_data": a reason is under 256 bytes in the request charset.
const MAX_REASON_BYTES = 255;

/**
 * The batch refund requests of a submitted batch (docs/alipay-protocol.md, "Batch refund requests"), built
 * from what `RefundBatchSubmitted` recorded and nothing else: `batch_no`, `refund_date` = `submittedAt` (the
 * instant the batch_no is dated by), the records, and notify_url under PUBLIC_BASE_URL. So a resend is the
 * same request, and the pwd URL of a batch is the same each time it is asked for.
 */
@Injectable()
export class RefundRequests {
  private readonly merchant: MerchantConfig;
  private readonly notifyUrl: string;

  constructor(config: LedgerConfig) {
    const { http } = config;
    this.merchant = merchantOf(config);
    this.notifyUrl = `${http.publicBaseUrl}/alipay/refund-notify`;
  }

  get charset(): Charset {
    return this.merchant.charset;
  }

  /** Why `reason` cannot go into `detail_data` in the request charset, or undefined when it can. */
  reasonFault(reason: string): string | undefined {
    const bytes = encodeText(reason, this.merchant.charset);
    if (!bytes.ok) return `cannot be written in ${this.merchant.charset}, the request charset`;
    if (bytes.value.length > MAX_REASON_BYTES) {
      return `must be under 256 bytes in ${this.merchant.charset} (it is ${bytes.value.length})`;
    }
    return undefined;
  }

  /** The signed `refund_fastpay_by_platform_pwd` request: the merchant opens `url` and confirms. */
  pwd(batch: RefundBatchSubmitted['data']): SignedRequest {
    const built = buildRefundPwdRequest(this.merchant, this.refund(batch));
    if (!built.ok) {
      // Every part was validated before the batch was recorded: this is a defect or a configuration error.
      throw new Error(
        `the pwd refund request of batch ${batch.batchNo} cannot be built: ${JSON.stringify(built.errors)}`,
      );
    }
    return built.value;
  }

  /** What `AlipayGateway.refundNopwd` sends for the batch. */
  nopwd(batch: RefundBatchSubmitted['data']): NopwdRefund {
    return this.refund(batch);
  }

  private refund(batch: RefundBatchSubmitted['data']): NopwdRefund {
    return {
      batchNo: batch.batchNo,
      refundDate: new Date(batch.submittedAt),
      records: batch.items.map(({ tradeNo, amount, reason }) => ({ tradeNo, amount, reason })),
      notifyUrl: this.notifyUrl,
    };
  }
}
