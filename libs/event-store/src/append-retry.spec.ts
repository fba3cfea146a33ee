import { withAppendRetry } from './append-retry';
import { EventStoreError } from './event-store-error';

const conflict = () =>
  new EventStoreError('WRONG_EXPECTED_VERSION', 'stream s was expected at version 1 but ...');
const orderConflict = () => new EventStoreError('STREAM_ORDER_CONFLICT', 'stream s was last written by ...');

describe('withAppendRetry', () => {
  it('runs the function again after retryable conflicts and returns its result', async () => {
    const failures = [conflict(), orderConflict()];
    const seen: number[] = [];
    const result = await withAppendRetry(
      (attempt) => {
        seen.push(attempt);
        const failure = failures.shift();
        return failure ? Promise.reject(failure) : Promise.resolve('appended');
      },
      { baseDelayMs: 0 },
    );
    expect(result).toBe('appended');
    expect(seen).toEqual([1, 2, 3]);
  });

  it('gives up after the bound and rethrows the last conflict', async () => {
    let calls = 0;
    const last = conflict();
    await expect(
      withAppendRetry(
        () => {
          calls++;
          return Promise.reject(calls === 3 ? last : conflict());
        },
        { attempts: 3, baseDelayMs: 0 },
      ),
    ).rejects.toBe(last);
    expect(calls).toBe(3);
  });

  it('does not retry errors that a new attempt cannot fix', async () => {
    for (const error of [new EventStoreError('INVALID_APPEND', 'bad'), new Error('connection lost')]) {
      let calls = 0;
      await expect(
        withAppendRetry(() => {
          calls++;
          return Promise.reject(error);
        }),
      ).rejects.toBe(error);
      expect(calls).toBe(1);
    }
  });

  it('refuses a bound below one attempt', async () => {
    await expect(withAppendRetry(() => Promise.resolve(1), { attempts: 0 })).rejects.toThrow(RangeError);
  });
});
