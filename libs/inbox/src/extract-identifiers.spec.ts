import { extractIdentifiers } from './inbox-store';

describe('extractIdentifiers', () => {
  it('reads the first non-empty occurrence of each identifier, escaped names included', () => {
    const body = Buffer.from('notify_id=&notify%5Fid=N1&notify_id=N2&out_trade_no=O%2D1&trade_no=T+1&x=1');
    expect(extractIdentifiers(body)).toEqual({
      notify_id: 'N1',
      notify_type: null,
      out_trade_no: 'O-1',
      trade_no: 'T 1',
      batch_no: null,
    });
  });

  it('reads only the first 200 parameters of a hostile body, and keeps 256 characters of a value', () => {
    const padding = Array.from({ length: 200 }, (_, i) => `p${i}`).join('&');
    expect(extractIdentifiers(Buffer.from(`${padding}&notify_id=late`)).notify_id).toBeNull();
    const long = extractIdentifiers(Buffer.from(`batch_no=${'9'.repeat(100_000)}`)).batch_no;
    expect(long).toBe('9'.repeat(256));
  });
});
