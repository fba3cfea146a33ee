import fc from 'fast-check';
import { DomainError, type PlaceOrder } from '@ledger/domain';
import { isEventStoreError } from '@ledger/event-store';
import { decideOnStream, runCommand } from './command-step';
import { InMemoryStreamSession } from './in-memory-stream-session';
import { orderStream } from './stream-definitions';
import type { StoredStream } from './stream-session';

// The command step on the in-memory session: the same code the PostgreSQL session runs.

const NO_STREAM: StoredStream = { version: 0, events: [] };

function placeOrder(overrides: Partial<PlaceOrder> = {}): PlaceOrder {
  return {
    type: 'PlaceOrder',
    outTradeNo: 'STEP-1',
    subject: 'A teapot',
    totalFee: 1234,
    service: 'create_direct_pay_by_user',
    sellerId: '2088101122136241',
    requestParameters: { out_trade_no: 'STEP-1', total_fee: '12.34' },
    placedAt: '2024-05-01T02:00:00.000Z',
    ...overrides,
  };
}

describe('the command step', () => {
  it('given no stream, when an order is placed, then it appends OrderPlaced at version 1', async () => {
    const session = new InMemoryStreamSession(() => Promise.resolve(NO_STREAM));
    const decision = await runCommand(session, (s) => decideOnStream(s, orderStream, placeOrder(), {}));
    expect(decision).toMatchObject({
      kind: 'appended',
      streamId: 'order-STEP-1',
      version: 1,
      events: [{ type: 'OrderPlaced', version: 1 }],
    });
    expect((await session.read('order-STEP-1')).version).toBe(1);
  });

  it('given a placed order, when it is placed again, then no new fact and nothing appended', async () => {
    const session = new InMemoryStreamSession(() => Promise.resolve(NO_STREAM));
    await runCommand(session, (s) => decideOnStream(s, orderStream, placeOrder(), {}));
    const again = await runCommand(session, (s) => decideOnStream(s, orderStream, placeOrder(), {}));
    expect(again).toEqual(expect.objectContaining({ kind: 'no_new_fact', version: 1, events: [] }));
    expect((await session.read('order-STEP-1')).version).toBe(1);
  });

  it('given a placed order, when another order takes its number, then the refusal is the coded error', async () => {
    const session = new InMemoryStreamSession(() => Promise.resolve(NO_STREAM));
    await runCommand(session, (s) => decideOnStream(s, orderStream, placeOrder(), {}));
    const refused = runCommand(session, (s) =>
      decideOnStream(s, orderStream, placeOrder({ totalFee: 999 }), {}),
    );
    await expect(refused).rejects.toBeInstanceOf(DomainError);
    await expect(refused).rejects.toMatchObject({ code: 'ORDER_CONFLICT' });
    expect((await session.read('order-STEP-1')).version).toBe(1);
  });

  it('decides again after losing a race, and gives up after the bound', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        async (races, attempts) => {
          const session = new InMemoryStreamSession(() => Promise.resolve(NO_STREAM));
          let lost = 0;
          let runs = 0;
          const outcome = runCommand(
            session,
            async (s) => {
              runs++;
              const read = await s.read('order-STEP-1');
              if (lost < races) {
                // Another writer appends to the stream between this attempt's read and its commit.
                lost++;
                await session.transaction((other) =>
                  other.append('order-STEP-1', read.version === 0 ? 'no_stream' : read.version, [
                    { type: 'AnotherWritersEvent', data: { lost } },
                  ]),
                );
              }
              return decideOnStream(s, orderStream, placeOrder(), {});
            },
            attempts,
          );
          if (races < attempts) {
            await expect(outcome).resolves.toMatchObject({ kind: 'appended', version: races + 1 });
            expect(runs).toBe(races + 1);
          } else {
            const error: unknown = await outcome.then(
              () => undefined,
              (thrown: unknown) => thrown,
            );
            expect(isEventStoreError(error, 'WRONG_EXPECTED_VERSION')).toBe(true);
            expect(runs).toBe(attempts);
          }
        },
      ),
      { numRuns: 30 },
    );
  });

  it('keeps nothing of a transaction whose work failed', async () => {
    const session = new InMemoryStreamSession(() => Promise.resolve(NO_STREAM));
    await expect(
      session.transaction(async (s) => {
        await decideOnStream(s, orderStream, placeOrder(), {});
        throw new DomainError('REFUND_EXCEEDS_REFUNDABLE', 'refused after the first append');
      }),
    ).rejects.toBeInstanceOf(DomainError);
    expect((await session.read('order-STEP-1')).version).toBe(0);
  });
});
