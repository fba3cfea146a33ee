import { replaySelection } from './replay.command';

describe('replaySelection', () => {
  it('takes all, a range or ids', () => {
    expect(replaySelection({ all: true })).toEqual({ all: true });
    expect(replaySelection({ from: '2024-05-01T00:00:00+08:00', to: '2024-05-02T00:00:00+08:00' })).toEqual({
      from: new Date('2024-04-30T16:00:00Z'),
      to: new Date('2024-05-01T16:00:00Z'),
    });
    expect(replaySelection({ id: ['3', '41'] })).toEqual({ ids: [3, 41] });
  });

  it.each([
    [{}, /exactly one of/],
    [{ all: true, id: ['1'] }, /exactly one of/],
    [{ all: true, from: '2024-05-01T00:00:00Z', to: '2024-05-02T00:00:00Z' }, /exactly one of/],
    [{ from: '2024-05-01T00:00:00Z' }, /go together/],
    [{ id: ['0'] }, /an inbox id/],
    [{ id: ['1.5'] }, /an inbox id/],
    [{ id: Array.from({ length: 10_001 }, (_, i) => String(i + 1)) }, /at most 10000/],
  ])('refuses %j as a usage error', (options, message) => {
    expect(() => replaySelection(options)).toThrow(
      expect.objectContaining({ code: 'USAGE', message: expect.stringMatching(message) }),
    );
  });
});
