import { REPLY_LIMIT, replyText } from './webhook-post';

describe('replyText', () => {
  it('keeps the first REPLY_LIMIT bytes of a reply as text', () => {
    expect(replyText(Buffer.from('{"reference":"R-1"}'))).toBe('{"reference":"R-1"}');
    expect(replyText(Buffer.alloc(REPLY_LIMIT + 10, 'a'))).toHaveLength(REPLY_LIMIT);
  });

  it('shows U+0000, which no PostgreSQL text can hold, as U+2400', () => {
    expect(replyText(Buffer.from('ok\u0000done\u0000'))).toBe('ok\u2400done\u2400');
  });
});
