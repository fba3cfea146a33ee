import { RefundBatchSerial1732000000006 } from './1732000000006-refund-batch-serial';

/** What refund submissions need besides the event store: the batch_no serial and the idempotency keys. */
export const REFUND_SUBMISSION_MIGRATIONS = [RefundBatchSerial1732000000006];
