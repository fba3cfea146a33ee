import { EventStoreError } from './event-store-error';
import { UpcasterChain, type EventUpcaster } from './upcasting';

interface PlacedV1 {
  amount: string;
}
interface PlacedV2 {
  amountFen: number;
}
interface PlacedV3 {
  amountFen: number;
  currency: 'CNY';
}

const v1ToV2: EventUpcaster<PlacedV1, PlacedV2> = {
  type: 'OrderPlaced',
  fromSchemaVersion: 1,
  upcast: (data) => ({ amountFen: Math.round(Number(data.amount) * 100) }),
};
const v2ToV3: EventUpcaster<PlacedV2, PlacedV3> = {
  type: 'OrderPlaced',
  fromSchemaVersion: 2,
  upcast: (data) => ({ ...data, currency: 'CNY' }),
};

function caught(fn: () => unknown): EventStoreError {
  try {
    fn();
  } catch (error) {
    if (error instanceof EventStoreError) return error;
    throw error;
  }
  throw new Error('expected an EventStoreError');
}

describe('UpcasterChain', () => {
  const chain = new UpcasterChain([v2ToV3, v1ToV2]);

  it('chains every step from the stored version to the current one, whatever the registration order', () => {
    expect(chain.currentVersion('OrderPlaced')).toBe(3);
    expect(chain.upcast({ type: 'OrderPlaced', schemaVersion: 1, data: { amount: '12.34' } })).toEqual({
      schemaVersion: 3,
      data: { amountFen: 1234, currency: 'CNY' },
    });
    expect(chain.upcast({ type: 'OrderPlaced', schemaVersion: 2, data: { amountFen: 5 } })).toEqual({
      schemaVersion: 3,
      data: { amountFen: 5, currency: 'CNY' },
    });
  });

  it('passes current versions, newer versions and unknown types through untouched', () => {
    const current = { amountFen: 1, currency: 'CNY' };
    expect(chain.upcast({ type: 'OrderPlaced', schemaVersion: 3, data: current }).data).toBe(current);
    expect(chain.upcast({ type: 'OrderPlaced', schemaVersion: 4, data: current })).toEqual({
      schemaVersion: 4,
      data: current,
    });
    const unknown = { anything: true };
    expect(chain.currentVersion('SomethingNew')).toBeUndefined();
    expect(chain.upcast({ type: 'SomethingNew', schemaVersion: 7, data: unknown })).toEqual({
      schemaVersion: 7,
      data: unknown,
    });
  });

  it('names the missing link when an event is older than the chain', () => {
    const partial = new UpcasterChain([v2ToV3]);
    const error = caught(() =>
      partial.upcast({ type: 'OrderPlaced', schemaVersion: 1, data: {}, globalPosition: 42 }),
    );
    expect(error.code).toBe('UPCASTER_MISSING');
    expect(error.message).toBe(
      'no upcaster for OrderPlaced from schema version 1 at global position 42; the chain starts at version 2',
    );
  });

  it('refuses a chain with a gap or two upcasters for the same step at construction', () => {
    const v3ToV4: EventUpcaster = { type: 'OrderPlaced', fromSchemaVersion: 3, upcast: (data) => data };
    expect(caught(() => new UpcasterChain([v1ToV2, v3ToV4])).message).toBe(
      'the upcaster chain of OrderPlaced has no link from schema version 2 to 3',
    );
    expect(caught(() => new UpcasterChain([v1ToV2, { ...v1ToV2 }])).message).toBe(
      'two upcasters for OrderPlaced from schema version 1',
    );
    expect(caught(() => new UpcasterChain([{ ...v1ToV2, fromSchemaVersion: 0 }])).code).toBe(
      'UPCASTER_MISSING',
    );
  });

  it('reports which event an upcaster failed on', () => {
    const failing = new UpcasterChain([
      {
        type: 'RefundRequested',
        fromSchemaVersion: 1,
        upcast: () => {
          throw new Error('no amount');
        },
      },
    ]);
    const error = caught(() =>
      failing.upcast({ type: 'RefundRequested', schemaVersion: 1, data: {}, globalPosition: 7 }),
    );
    expect(error.code).toBe('UPCAST_FAILED');
    expect(error.message).toBe(
      'upcasting RefundRequested at global position 7 from schema version 1 failed: Error: no amount',
    );
    expect(error.cause).toBeInstanceOf(Error);
  });
});
