import { setTimeout as sleep } from 'node:timers/promises';
import { CommitNotifier, NOTIFY_MIN_GAP_MS } from './commit-notifier';

/** Records each hint with when it was sent; each takes `latencyMs` to come back. */
function fakeDatabase(latencyMs: number) {
  const sent: Array<{ payload: string; at: number }> = [];
  const statements = {
    query: async (_sql: string, parameters: unknown[]) => {
      sent.push({ payload: String(parameters[1]), at: performance.now() });
      await sleep(latencyMs);
      return [];
    },
  };
  return { sent, statements };
}

describe('CommitNotifier', () => {
  it('under a stream of commits sends a hint at most every NOTIFY_MIN_GAP_MS, and always for the last commit', async () => {
    const { sent, statements } = fakeDatabase(0);
    const notifier = new CommitNotifier(statements, () => true);
    const started = performance.now();
    for (let transaction = 1; transaction <= 200; transaction++) {
      notifier.committed(String(transaction));
      await sleep(0);
    }
    const elapsed = performance.now() - started;
    await sleep(NOTIFY_MIN_GAP_MS * 3);

    expect(sent.length).toBeLessThanOrEqual(Math.ceil(elapsed / NOTIFY_MIN_GAP_MS) + 1);
    expect(sent.at(-1)?.payload).toBe('200');
    for (let i = 1; i < sent.length; i++) {
      // Less a rounding allowance: `at` is read just after the notifier's own clock.
      expect(sent[i].at - sent[i - 1].at).toBeGreaterThanOrEqual(NOTIFY_MIN_GAP_MS - 0.1);
    }
  });

  it('keeps one hint in flight, and announces what committed meanwhile when it returns', async () => {
    const { sent, statements } = fakeDatabase(NOTIFY_MIN_GAP_MS * 4);
    const notifier = new CommitNotifier(statements, () => true);
    notifier.committed('1');
    notifier.committed('2');
    notifier.committed('3');
    expect(sent.map((hint) => hint.payload)).toEqual(['1']);
    await sleep(NOTIFY_MIN_GAP_MS * 12);
    expect(sent.map((hint) => hint.payload)).toEqual(['1', '3']);
  });

  it('sends a lone commit at once', async () => {
    const { sent, statements } = fakeDatabase(0);
    const notifier = new CommitNotifier(statements, () => true);
    notifier.committed('7');
    await sleep(NOTIFY_MIN_GAP_MS * 2);
    notifier.committed('8');
    expect(sent.map((hint) => hint.payload)).toEqual(['7', '8']);
  });
});
