import { parseReconcileOptions } from './reconcile.command';

describe('parseReconcileOptions', () => {
  it('takes orders, or a time range, with --dry-run', () => {
    expect(parseReconcileOptions(['--order', 'A-1', '--order', 'B_2', '--dry-run'])).toEqual({
      ok: true,
      selection: { outTradeNos: ['A-1', 'B_2'] },
      dryRun: true,
    });
    expect(
      parseReconcileOptions(['--from', '2024-05-01T00:00:00Z', '--to', '2024-05-02T00:00:00+08:00']),
    ).toEqual({
      ok: true,
      selection: { from: new Date('2024-05-01T00:00:00Z'), to: new Date('2024-05-01T16:00:00Z') },
      dryRun: false,
    });
  });

  it.each([
    [[], /give --order/],
    [['--order', 'A', '--from', '2024-05-01T00:00:00Z', '--to', '2024-05-02T00:00:00Z'], /give --order/],
    [['--from', '2024-05-01T00:00:00Z'], /go together/],
    [['--from', '2024-05-01', '--to', '2024-05-02T00:00:00Z'], /ISO 8601 instant with its zone/],
    [['--from', '2024-05-02T00:00:00Z', '--to', '2024-05-01T00:00:00Z'], /--to must be after --from/],
    [['--order', 'no spaces'], /1 to 64 letters/],
    [['--orders', 'A'], /Unknown option/],
  ])('refuses %j with the reason', (args, message) => {
    const options = parseReconcileOptions(args);
    expect(options.ok).toBe(false);
    expect(!options.ok && options.message).toMatch(message);
  });
});
