import { reconcileSelection } from './reconcile.command';

describe('reconcileSelection', () => {
  it('takes orders, or a time range', () => {
    expect(reconcileSelection({ order: ['A-1', 'B_2'] })).toEqual({ outTradeNos: ['A-1', 'B_2'] });
    expect(reconcileSelection({ from: '2024-05-01T00:00:00Z', to: '2024-05-02T00:00:00+08:00' })).toEqual({
      from: new Date('2024-05-01T00:00:00Z'),
      to: new Date('2024-05-01T16:00:00Z'),
    });
  });

  it.each([
    [{}, /give --order/],
    [{ order: ['A'], from: '2024-05-01T00:00:00Z', to: '2024-05-02T00:00:00Z' }, /give --order/],
    [{ from: '2024-05-01T00:00:00Z' }, /go together/],
    [{ from: '2024-05-01', to: '2024-05-02T00:00:00Z' }, /ISO 8601 instant with its zone/],
    [{ from: '2024-05-02T00:00:00Z', to: '2024-05-01T00:00:00Z' }, /--to must be after --from/],
    [{ order: ['no spaces'] }, /1 to 64 letters/],
  ])('refuses %j with the reason, as a usage error', (options, message) => {
    expect(() => reconcileSelection(options)).toThrow(
      expect.objectContaining({ code: 'USAGE', exit: 64, message: expect.stringMatching(message) }),
    );
  });
});
