import { encodeText } from '@ledger/alipay-protocol';

// The synchronous XML of the server-to-server services (docs/alipay-protocol.md, "XML replies"):
// `<alipay><is_success>T</is_success>…</alipay>` or `F` with `<error>CODE</error>`. Alipay's samples declare
// GBK whatever the merchant's charset, so the sandbox does too (a merchant must honour the declaration).

export interface XmlReply {
  readonly body: Buffer;
  readonly contentType: string;
}

const XML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

// Named entities: the protocol's reply parser decodes them, and leaves character references as they are.
function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);
}

/** An element with text content, escaped. */
export function xmlElement(name: string, text: string): string {
  return `<${name}>${escapeXml(text)}</${name}>`;
}

/** Alipay's echo of the request parameters (`sign` and `sign_type` left out). */
export function requestEcho(params: Readonly<Record<string, string>>): string {
  const echoed = Object.entries(params)
    .filter(([name]) => name !== 'sign' && name !== 'sign_type')
    .map(([name, value]) => `<param name="${escapeXml(name)}">${escapeXml(value)}</param>`)
    .join('');
  return `<request>${echoed}</request>`;
}

function document(inner: string): XmlReply {
  const gbk = encodeText(`<?xml version="1.0" encoding="GBK"?>\n<alipay>${inner}</alipay>`, 'gbk');
  if (gbk.ok) return { body: gbk.value, contentType: 'text/xml; charset=GBK' };
  // Echoed text that GBK cannot carry: the same document in UTF-8, declared so.
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n<alipay>${inner}</alipay>`;
  return { body: Buffer.from(text, 'utf8'), contentType: 'text/xml; charset=UTF-8' };
}

/** `is_success=T`: accepted (for a refund: not yet refunded), followed by `inner` (already XML). */
export function acceptedXml(inner = ''): XmlReply {
  return document(`<is_success>T</is_success>${inner}`);
}

/** `is_success=F` with Alipay's error code. */
export function rejectedXml(code: string): XmlReply {
  return document(`<is_success>F</is_success>${xmlElement('error', code)}`);
}
