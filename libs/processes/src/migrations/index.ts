import { REFUND_PROCESS_MIGRATIONS } from '../refunds/migrations';
import { WEBHOOK_MIGRATIONS } from '../webhooks/migrations';

/** The process managers' tables: webhooks and shipping tasks, refund batch sends. */
export const PROCESS_MIGRATIONS = [...WEBHOOK_MIGRATIONS, ...REFUND_PROCESS_MIGRATIONS];
