import { RefundBatchSends1732000000401 } from './1732000000401-refund-batch-sends';
import { RefundBatchWork1732000000450 } from './1732000000450-refund-batch-work';

/**
 * The refund processes' own tables: the nopwd sender's durable record of its calls, and the work list the
 * `refund_batch_work` consumer keeps.
 */
export const REFUND_PROCESS_MIGRATIONS = [RefundBatchSends1732000000401, RefundBatchWork1732000000450];
