import { h, type ComponentChildren, type VNode } from 'preact';
import htm from 'htm';
import { renderToStaticMarkup } from 'preact-render-to-string';

// docs/console.md, "How the pages are made": server-rendered preact trees written as htm tagged templates.
// Every interpolated value is a text node or an attribute value, escaped by the renderer: no page builds HTML
// by concatenating strings.

/** What a template or a part of a page yields: one element, several, or text. */
export type Markup = ComponentChildren;

const bound = htm.bind(h);

/** Each template's strings with HTML's whitespace rule, made once per template (htm caches by them). */
const withHtmlWhitespace = new WeakMap<TemplateStringsArray, TemplateStringsArray>();

/**
 * htm drops the text at a line break next to a tag or a value ("run again,⏎${n}" reads "run again,3"),
 * where HTML, the reader and the formatter see one space. The templates are read as HTML is: a line break
 * and the indentation around it are one space.
 */
function htmlWhitespace(strings: TemplateStringsArray): TemplateStringsArray {
  let read = withHtmlWhitespace.get(strings);
  if (read === undefined) {
    const collapsed = strings.map((part) => part.replace(/\s*\n\s*/g, ' '));
    read = Object.assign(collapsed, { raw: collapsed });
    withHtmlWhitespace.set(strings, read);
  }
  return read;
}

/** The tagged template of every page: `html\`<p>${text}</p>\``. */
export function html(strings: TemplateStringsArray, ...values: unknown[]): VNode {
  return bound(htmlWhitespace(strings), ...values) as VNode;
}

/** A whole document as the server sends it. */
export function renderDocument(root: VNode): string {
  return `<!DOCTYPE html>${renderToStaticMarkup(root)}`;
}
