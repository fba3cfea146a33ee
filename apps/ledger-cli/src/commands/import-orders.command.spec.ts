import { orderTableOptions } from './import-orders.command';

describe('orderTableOptions', () => {
  it('maps columns, the service and the delimiter, a tab written \\t', () => {
    expect(
      orderTableOptions({
        dryRun: true,
        column: ['out_trade_no=order_no', 'total_fee=price'],
        service: 'trade_create_by_buyer',
        delimiter: '\\t',
      }),
    ).toEqual({
      dryRun: true,
      placeOnly: false,
      columns: { out_trade_no: 'order_no', total_fee: 'price' },
      service: 'trade_create_by_buyer',
      delimiter: '\t',
    });
  });

  it.each([
    [{ column: ['colour=red'] }, /expected FIELD=NAME/],
    [{ column: ['out_trade_no='] }, /expected FIELD=NAME/],
    [{ service: 'alipay.wap' }, /--service must be one of/],
    [{ delimiter: ';;' }, /one character/],
    [{ delimiter: '"' }, /one character/],
  ])('refuses %j as a usage error', (options, message) => {
    expect(() => orderTableOptions(options)).toThrow(
      expect.objectContaining({ code: 'USAGE', message: expect.stringMatching(message) }),
    );
  });
});
