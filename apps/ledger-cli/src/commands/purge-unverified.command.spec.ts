import { purgeOptions } from './purge-unverified.command';

describe('purgeOptions', () => {
  it('takes the age, the dry run and the operator', () => {
    expect(purgeOptions({ olderThanDays: '90', dryRun: true, operator: 'alice' })).toEqual({
      olderThanDays: 90,
      dryRun: true,
      operator: 'alice',
    });
    expect(purgeOptions({})).toEqual({ dryRun: false });
  });

  it.each([
    [{ olderThanDays: '0' }, /whole number of days/],
    [{ olderThanDays: '1.5' }, /whole number of days/],
    [{ operator: ' alice' }, /printable ASCII/],
    [{ operator: '张三' }, /printable ASCII/],
  ])('refuses %j as a usage error', (options, message) => {
    expect(() => purgeOptions(options)).toThrow(message);
  });
});
