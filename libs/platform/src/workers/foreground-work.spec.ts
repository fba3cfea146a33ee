import { BUSY_FROM_REQUESTS, BUSY_LINGER_MS, ForegroundWork } from './foreground-work';

describe('ForegroundWork', () => {
  let now = 0;
  const work = () => new ForegroundWork(() => now);
  beforeEach(() => (now = 1_000));

  it('is idle below the threshold, busy from it, and idle again once the burst has lingered out', () => {
    const foreground = work();
    const ends = Array.from({ length: BUSY_FROM_REQUESTS - 1 }, () => foreground.begin());
    expect(foreground.busy()).toBe(false);
    ends.push(foreground.begin());
    expect(foreground.busy()).toBe(true);

    for (const end of ends) end();
    now += BUSY_LINGER_MS - 1;
    expect(foreground.busy()).toBe(true);
    now += 1;
    expect(foreground.busy()).toBe(false);
  });

  it('stays busy while the requests stay in flight, however long they take', () => {
    const foreground = work();
    const ends = Array.from({ length: BUSY_FROM_REQUESTS }, () => foreground.begin());
    now += 10 * BUSY_LINGER_MS;
    expect(foreground.busy()).toBe(true);
    ends.pop()!();
    expect(foreground.busy()).toBe(true);
    now += BUSY_LINGER_MS;
    expect(foreground.busy()).toBe(false);
  });

  it('counts a request once however often its end is called', () => {
    const foreground = work();
    const ends = Array.from({ length: BUSY_FROM_REQUESTS }, () => foreground.begin());
    const first = ends[0];
    first();
    first();
    first();
    now += BUSY_LINGER_MS;
    expect(foreground.busy()).toBe(false);
    // Three requests are still in flight: one more makes four, busy again.
    const another = foreground.begin();
    expect(foreground.busy()).toBe(true);
    another();
    now += BUSY_LINGER_MS;
    expect(foreground.busy()).toBe(false);
  });
});
