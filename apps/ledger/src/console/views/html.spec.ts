import { html, renderDocument } from './html';

describe('the console templates', () => {
  it('escape every value, in text and in attributes', () => {
    const hostile = '<script>alert("x")</script>';
    const page = renderDocument(html`<p title=${hostile}>${hostile} 龙井</p>`);
    expect(page).toBe(
      '<!DOCTYPE html><p title="&lt;script>alert(&quot;x&quot;)&lt;/script>">&lt;script>alert(&quot;x&quot;)&lt;/script> 龙井</p>',
    );
  });

  it('read a line break between text, tags and values as one space, as HTML does', () => {
    const replayed = 3;
    // prettier-ignore
    const page = renderDocument(html`<p>
      <strong>1</strong> selected,
      ${replayed} run again
    </p>`);
    expect(page).toBe('<!DOCTYPE html><p> <strong>1</strong> selected, 3 run again </p>');
  });
});
