import { h, type ComponentChildren, type VNode } from 'preact';
import htm from 'htm';
import { renderToStaticMarkup } from 'preact-render-to-string';

// docs/console.md, "How the pages are made": server-rendered preact trees written as htm tagged templates.
// Every interpolated value is a text node or an attribute value, escaped by the renderer: no page builds HTML
// by concatenating strings.

/** What a template or a part of a page yields: one element, several, or text. */
export type Markup = ComponentChildren;

/** The tagged template of every page: `html\`<p>${text}</p>\``. */
export const html = htm.bind(h) as (strings: TemplateStringsArray, ...values: unknown[]) => VNode;

/** A whole document as the server sends it. */
export function renderDocument(root: VNode): string {
  return `<!DOCTYPE html>${renderToStaticMarkup(root)}`;
}
