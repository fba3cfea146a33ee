import { Webhooks1732000000300 } from './1732000000300-webhooks';
import { ShippingTasks1732000000301 } from './1732000000301-shipping-tasks';

/** The process managers' work tables: the webhook outbox and its attempts, the shipping confirmations. */
export const WEBHOOK_MIGRATIONS = [Webhooks1732000000300, ShippingTasks1732000000301];
