import { Pauses } from './pauses';

describe('Pauses', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('resolves a pause after its time, or at once when cut short', async () => {
    const pauses = new Pauses();
    let timed = false;
    let cut = false;
    void pauses.sleep(1_000).then(() => (timed = true));
    await jest.advanceTimersByTimeAsync(999);
    expect(timed).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(timed).toBe(true);

    void pauses.sleep(60_000).then(() => (cut = true));
    pauses.cutShort();
    await Promise.resolve();
    expect(cut).toBe(true);
  });

  it('once cut for good, ends every later pause at once; a plain cut does not', async () => {
    const pauses = new Pauses();
    pauses.cutShort();
    let later = false;
    void pauses.sleep(60_000).then(() => (later = true));
    await jest.advanceTimersByTimeAsync(1_000);
    expect(later).toBe(false);
    pauses.cutShort(true);
    await Promise.resolve();
    expect(later).toBe(true);
    let afterStop = false;
    void pauses.sleep(60_000).then(() => (afterStop = true));
    await Promise.resolve();
    expect(afterStop).toBe(true);
  });
});
