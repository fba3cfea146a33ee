import { nextQueryDelayMs } from './reconcile-schedule';

describe('nextQueryDelayMs', () => {
  const policy = { baseMs: 300_000, maxMs: 21_600_000, jitter: true };

  it('doubles from the base after each unresolved query, without jitter, up to the cap', () => {
    expect(
      [1, 2, 3, 4, 5, 6, 7, 8, 30].map((attempts) => nextQueryDelayMs(policy, attempts) / 60_000),
    ).toEqual([5, 10, 20, 40, 80, 160, 320, 360, 360]);
  });

  it('treats a row never counted as its first query', () => {
    expect(nextQueryDelayMs(policy, 0)).toBe(300_000);
  });
});
