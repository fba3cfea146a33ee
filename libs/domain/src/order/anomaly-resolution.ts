import { DomainError } from '../domain-error';
import { checkResolution } from '../operator-resolution';
import type { Instant } from '../values';
import type { OrderEvent } from './order-events';
import type { OrderState, RecordedAnomaly } from './order-state';

/**
 * An operator's decision on the order's open anomalies (docs/product-rules.md, "Operator resolutions"):
 * `accept` — Alipay's input is understood and the order proceeds; `confirm` — the anomaly stands and the
 * order stays blocked.
 */
export interface ResolveAnomalies {
  type: 'ResolveAnomalies';
  outTradeNo: string;
  decision: 'accept' | 'confirm';
  operator: string;
  reason: string;
  resolvedAt: Instant;
}

/** The anomalies no operator has resolved yet, in the order they were recorded. */
export function openAnomalies(state: OrderState): readonly RecordedAnomaly[] {
  return state.anomalies.filter((anomaly) => anomaly.resolution === undefined);
}

/**
 * `AnomalyResolved` covering every open anomaly. A confirmed anomaly is closed for good: a later accept does
 * not reopen it. Nothing open is `NO_OPEN_ANOMALY`.
 */
export function decideResolveAnomalies(command: ResolveAnomalies, state: OrderState): OrderEvent[] {
  checkResolution(command.operator, command.reason);
  const open = openAnomalies(state);
  if (open.length === 0) {
    throw new DomainError(
      'NO_OPEN_ANOMALY',
      state.anomalies.length === 0
        ? `order ${command.outTradeNo} has no anomaly to resolve`
        : `every anomaly of order ${command.outTradeNo} is already resolved`,
      'outTradeNo',
    );
  }
  return [
    {
      type: 'AnomalyResolved',
      data: {
        outTradeNo: command.outTradeNo,
        decision: command.decision,
        operator: command.operator,
        reason: command.reason,
        kinds: open.map((anomaly) => anomaly.kind),
        resolvedAt: command.resolvedAt,
      },
    },
  ];
}
