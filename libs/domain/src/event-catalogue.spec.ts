import { eventCatalogue, LEDGER_EVENT_CATALOGUE } from './event-catalogue';
import { ORDER_EVENT_SCHEMA_VERSIONS } from './order/order-events';
import { REFUND_BATCH_EVENT_SCHEMA_VERSIONS } from './refund-batch/refund-batch-events';

describe('the ledger event catalogue', () => {
  it('lists every type of both streams at the version of its table', () => {
    expect(LEDGER_EVENT_CATALOGUE.currentVersions).toEqual({
      ...ORDER_EVENT_SCHEMA_VERSIONS,
      ...REFUND_BATCH_EVENT_SCHEMA_VERSIONS,
    });
  });

  it('refuses a type that two streams share at different versions', () => {
    expect(() => eventCatalogue([{ AnomalyDetected: 2 }, { AnomalyDetected: 1, Other: 1 }], [])).toThrow(
      'AnomalyDetected is at schema version 2 on one stream and 1 on another',
    );
  });
});
