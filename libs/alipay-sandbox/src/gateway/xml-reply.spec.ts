import { parseGatewayReply } from '@ledger/alipay-protocol';
import { acceptedXml, requestEcho, xmlElement } from './xml-reply';

describe('the XML replies', () => {
  it('echo text with XML characters so that a merchant reads back what it sent', () => {
    const xml = acceptedXml(
      `${requestEcho({ logistics_name: `A&B <"顺丰"> 'x'`, sign: 'hidden' })}${xmlElement('note', '1 < 2 & 3')}`,
    );
    const reply = parseGatewayReply(xml.body);
    expect(reply).toMatchObject({
      ok: true,
      value: { charset: 'gbk', fields: { request: { param: `A&B <"顺丰"> 'x'` }, note: '1 < 2 & 3' } },
    });
  });
});
