import { StatementBatcher } from './statement-batcher';

/** A statement whose completion the test controls, recording the batches it was sent. */
function controlledStatement() {
  const batches: number[][] = [];
  const pending: { finish: () => void; fail: (error: Error) => void }[] = [];
  const run = (items: readonly number[]) => {
    batches.push([...items]);
    return new Promise<number[]>((resolve, reject) => {
      pending.push({ finish: () => resolve(items.map((item) => item * 10)), fail: reject });
    });
  };
  return { batches, pending, run };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('StatementBatcher', () => {
  it('sends a lone call at once, by itself', async () => {
    const statement = controlledStatement();
    const batcher = new StatementBatcher(statement.run, { maxBatch: 8, maxInFlight: 1 });
    const answer = batcher.submit(1);
    await turn();
    expect(statement.batches).toEqual([[1]]);
    statement.pending[0].finish();
    await expect(answer).resolves.toBe(10);
  });

  it('answers calls made in one turn with one statement, each with its own answer', async () => {
    const statement = controlledStatement();
    const batcher = new StatementBatcher(statement.run, { maxBatch: 8, maxInFlight: 1 });
    const answers = [3, 1, 2].map((item) => batcher.submit(item));
    await turn();
    expect(statement.batches).toEqual([[3, 1, 2]]);
    statement.pending[0].finish();
    await expect(Promise.all(answers)).resolves.toEqual([30, 10, 20]);
  });

  it('groups the calls made while the statements in flight run, in batches of at most maxBatch', async () => {
    const statement = controlledStatement();
    const batcher = new StatementBatcher(statement.run, { maxBatch: 3, maxInFlight: 2 });
    const first = batcher.submit(0);
    await turn();
    const second = batcher.submit(1);
    await turn();
    // Two in flight: the next seven calls wait, then go as 3 + 3 + 1.
    const waiting = [2, 3, 4, 5, 6, 7, 8].map((item) => batcher.submit(item));
    await turn();
    expect(statement.batches).toEqual([[0], [1]]);
    statement.pending[0].finish();
    statement.pending[1].finish();
    await Promise.all([first, second]);
    await turn();
    expect(statement.batches).toEqual([[0], [1], [2, 3, 4], [5, 6, 7]]);
    statement.pending[2].finish();
    await turn();
    await turn();
    expect(statement.batches).toEqual([[0], [1], [2, 3, 4], [5, 6, 7], [8]]);
    statement.pending[3].finish();
    statement.pending[4].finish();
    await expect(Promise.all(waiting)).resolves.toEqual([20, 30, 40, 50, 60, 70, 80]);
  });

  it('fails every call of a failed statement with its error, and goes on with the next ones', async () => {
    const statement = controlledStatement();
    const batcher = new StatementBatcher(statement.run, { maxBatch: 8, maxInFlight: 1 });
    const failed = [1, 2].map((item) => batcher.submit(item));
    await turn();
    const later = batcher.submit(3);
    statement.pending[0].fail(new Error('the database went away'));
    for (const call of failed) await expect(call).rejects.toThrow('the database went away');
    await turn();
    expect(statement.batches).toEqual([[1, 2], [3]]);
    statement.pending[1].finish();
    await expect(later).resolves.toBe(30);
  });

  it('fails the calls of a statement that answered a different number of them', async () => {
    const batcher = new StatementBatcher(() => Promise.resolve([1]), { maxBatch: 8, maxInFlight: 1 });
    const calls = [batcher.submit(1), batcher.submit(2)];
    for (const call of calls) await expect(call).rejects.toThrow('answered 1 of 2 calls');
  });

  it('refuses sizes that would never send anything', () => {
    expect(() => new StatementBatcher(() => Promise.resolve([]), { maxBatch: 0, maxInFlight: 1 })).toThrow(
      RangeError,
    );
    expect(() => new StatementBatcher(() => Promise.resolve([]), { maxBatch: 1, maxInFlight: 0 })).toThrow(
      RangeError,
    );
  });
});
