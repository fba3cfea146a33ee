import { LedgerLogger } from '@ledger/platform';
import { WorkerLoop } from './worker-loop';

function loopWith(pass: () => Promise<boolean>, pollMs = 60_000): WorkerLoop {
  return new WorkerLoop({ name: 'test', pollMs, logger: new LedgerLogger('silent'), pass });
}

const until = async (condition: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error('condition not reached');
};

describe('WorkerLoop', () => {
  it('passes again at once while there is more to do, then pauses', async () => {
    let passes = 0;
    const loop = loopWith(() => Promise.resolve(++passes < 3));
    loop.start();
    await until(() => passes === 3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(passes).toBe(3);
    await loop.stop();
  });

  it('cuts its pause short when stopped, and does not pass again', async () => {
    let passes = 0;
    const loop = loopWith(() => Promise.resolve(++passes === 0));
    loop.start();
    await until(() => passes === 1);
    const stopping = Date.now();
    await loop.stop();
    expect(Date.now() - stopping).toBeLessThan(1_000);
    expect(loop.stopping).toBe(true);
    expect(loop.signal.aborted).toBe(true);
    expect(passes).toBe(1);
  });

  it('retries a failing pass after the pause, and finishes the pass in flight before stopping', async () => {
    let passes = 0;
    let release: () => void = () => undefined;
    const loop = loopWith(async () => {
      passes++;
      if (passes === 1) throw new Error('the database is away');
      await new Promise<void>((resolve) => (release = resolve));
      return false;
    }, 10);
    loop.start();
    await until(() => passes === 2);
    let stopped = false;
    const stopping = loop.stop().then(() => (stopped = true));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(passes).toBe(2);
  });
});
