import { RefundBatchSends1732000000401 } from './1732000000401-refund-batch-sends';

/** The refund processes' own table: the nopwd sender's durable record of its calls. */
export const REFUND_PROCESS_MIGRATIONS = [RefundBatchSends1732000000401];
