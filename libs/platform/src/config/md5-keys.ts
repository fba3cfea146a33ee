// What the signing code accepts is 32 printable characters; Alipay's MD5 keys are 32 letters and digits, and
// the comma separates the keys of a rotation, so the stricter rule can never pass a key that signing refuses.
const MD5_KEY = /^[0-9A-Za-z]{32}$/;

const ACCEPTS =
  'ALIPAY_KEY must be the MD5 key of the merchant console, exactly 32 letters and digits; during a rotation, ' +
  'several such keys separated by commas, the first one signing';

/** Why the configured keys cannot sign, naming keys by position only (a key is never shown, not even in part). */
export function md5KeysProblem(value: string): string | undefined {
  const keys = value.split(',');
  const faults = keys.flatMap((key, index) => {
    if (MD5_KEY.test(key)) return [];
    const which = keys.length === 1 ? 'the key' : `key ${index + 1} of ${keys.length}`;
    if (key.length === 0) return [`${which} is empty`];
    if (key.length !== 32) return [`${which} has ${key.length} characters`];
    return [`${which} has a character other than letters and digits`];
  });
  return faults.length === 0 ? undefined : `ALIPAY_KEY=(redacted): ${faults.join(', ')}; ${ACCEPTS}`;
}
