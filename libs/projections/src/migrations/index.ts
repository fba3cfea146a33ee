import { OrderProjections1732000000004 } from './1732000000004-order-projections';
import { RefundBatchProjection1732000000005 } from './1732000000005-refund-batch-projection';
import { OrderStateVersion1732000000012 } from './1732000000012-order-state-version';
import { OrderSearch1732000000303 } from './1732000000303-order-search';
import { OrderStatusAttention1732000000310 } from './1732000000310-order-status-attention';
import { MoneyMovements1732000000320 } from './1732000000320-money-movements';
import { OrderPlacedAt1732000000321 } from './1732000000321-order-placed-at';
import { RefundBatchResolutions1732000000400 } from './1732000000400-refund-batch-resolutions';

/** The read models' tables: order status, refund batches and money movements. */
export const PROJECTION_MIGRATIONS = [
  OrderProjections1732000000004,
  RefundBatchProjection1732000000005,
  OrderStateVersion1732000000012,
  OrderSearch1732000000303,
  OrderStatusAttention1732000000310,
  MoneyMovements1732000000320,
  OrderPlacedAt1732000000321,
  RefundBatchResolutions1732000000400,
];
