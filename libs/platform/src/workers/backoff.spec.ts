import fc from 'fast-check';
import { Backoff, backoffDelayMs, type BackoffPolicy } from './backoff';

const policies = fc
  .record({ baseMs: fc.integer({ min: 1, max: 60_000 }), spread: fc.integer({ min: 0, max: 1_000_000 }) })
  .map(({ baseMs, spread }): BackoffPolicy => ({ baseMs, maxMs: baseMs + spread }));

describe('backoffDelayMs', () => {
  it('starts at the base, doubles at each failure and stops at the cap', () => {
    const policy = { baseMs: 100, maxMs: 5_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 1_000].map((failures) => backoffDelayMs(policy, failures))).toEqual([
      100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000,
    ]);
  });

  it('never shrinks as failures go on, and stays within the base and the cap', () => {
    fc.assert(
      fc.property(policies, fc.integer({ min: 1, max: 200 }), (policy, failures) => {
        const delay = backoffDelayMs(policy, failures);
        expect(delay).toBeGreaterThanOrEqual(Math.min(policy.baseMs, policy.maxMs));
        expect(delay).toBeLessThanOrEqual(policy.maxMs);
        expect(backoffDelayMs(policy, failures + 1)).toBeGreaterThanOrEqual(delay);
      }),
    );
  });

  it('with jitter, draws from the upper half of the plain delay', () => {
    fc.assert(
      fc.property(
        policies,
        fc.integer({ min: 1, max: 60 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (policy, failures, draw) => {
          const plain = backoffDelayMs(policy, failures);
          const jittered = backoffDelayMs({ ...policy, jitter: true }, failures, () => draw);
          expect(jittered).toBeGreaterThanOrEqual(Math.floor(plain / 2));
          expect(jittered).toBeLessThanOrEqual(plain);
        },
      ),
    );
    const policy = { baseMs: 1_000, maxMs: 1_000, jitter: true };
    expect(backoffDelayMs(policy, 1, () => 0)).toBe(500);
    expect(backoffDelayMs(policy, 1, () => 0.999)).toBe(1_000);
  });
});

describe('Backoff', () => {
  it('counts failures in a row, and starts again from the base after a success', () => {
    const backoff = new Backoff({ baseMs: 100, maxMs: 300 });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([100, 200, 300]);
    expect(backoff.failures).toBe(3);
    backoff.reset();
    expect(backoff.failures).toBe(0);
    expect(backoff.next()).toBe(100);
  });
});
