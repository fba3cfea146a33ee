import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { parseSingleTradeQueryReply, verifyNotification, type Charset } from '@ledger/alipay-protocol';
import { LedgerConfig } from '@ledger/platform';
import { DataSource } from 'typeorm';
import type { InboxChannel, StoredVerification } from './inbox-notification';

/** A stored notification whose signature verdict is not what it was when it came. */
export interface SignatureDifference {
  inboxId: number;
  channel: InboxChannel;
  receivedAt: string;
  /** The verdict stored with the row (`VERIFIED` or the reason it failed), and today's. */
  stored: string;
  now: string;
  /** The charset verification chose then, and the one it chooses now. */
  storedCharset: Charset;
  nowCharset: Charset | null;
  /** Today's verification in one line. */
  summary: string;
}

/** What re-verifying the inbox found. */
export interface SignatureAuditReport {
  /** Rows whose signature was checked again. */
  checked: number;
  /** Of those, stored as verified and verified again. */
  verified: number;
  /** Rows never verified (a body refused before verification, a query answer without a trade). */
  skipped: number;
  /** The first `MAX_SIGNATURE_DIFFERENCES` rows whose verdict or charset changed. */
  differences: SignatureDifference[];
  differenceCount: number;
}

/** Differences listed; the count covers them all. */
export const MAX_SIGNATURE_DIFFERENCES = 100;
/** Rows read per page: a row keeps up to the 1 MiB body the edge accepts. */
const PAGE_SIZE = 50;

interface AuditRow {
  id: string;
  channel: InboxChannel;
  received_at: Date;
  content_type: string | null;
  raw_body: Buffer | null;
  verification: StoredVerification | null;
}

interface Verdict {
  outcome: string;
  charset: Charset | null;
  summary: string;
}

/**
 * Verifies every stored notification's signature again (docs/operations.md, "The CLI", `verify`): from the
 * raw bytes as stored, with the configured keys, in the charset verification chose when the notification
 * came, and reports each row whose verdict changed: a body altered after it was stored, or keys rotated out
 * while history still needs them. Reads the inbox in pages by id; writes nothing.
 */
@Injectable()
export class InboxSignatureAudit {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly config: LedgerConfig,
  ) {}

  async audit(
    options: { onProgress?: (done: number, total: number) => void } = {},
  ): Promise<SignatureAuditReport> {
    const [{ total }] = await this.dataSource.query<{ total: string }[]>(
      `SELECT count(*) AS total FROM inbox_notifications`,
    );
    const report: SignatureAuditReport = {
      checked: 0,
      verified: 0,
      skipped: 0,
      differences: [],
      differenceCount: 0,
    };
    let after = 0;
    let done = 0;
    for (;;) {
      const rows = await this.dataSource.query<AuditRow[]>(
        `SELECT id, channel, received_at, content_type, verification,
                CASE WHEN verification IS NOT NULL THEN raw_body END AS raw_body
         FROM inbox_notifications WHERE id > $1 ORDER BY id LIMIT ${PAGE_SIZE}`,
        [after],
      );
      for (const row of rows) this.check(row, report);
      done += rows.length;
      options.onProgress?.(done, Number(total));
      if (rows.length < PAGE_SIZE) return report;
      after = Number(rows[rows.length - 1].id);
    }
  }

  private check(row: AuditRow, report: SignatureAuditReport): void {
    const stored = row.verification;
    if (stored === null || row.raw_body === null) {
      report.skipped += 1;
      return;
    }
    report.checked += 1;
    const now = this.verdict(row, stored.charset);
    if (now.outcome === stored.outcome && now.charset === stored.charset) {
      if (stored.outcome === 'VERIFIED') report.verified += 1;
      return;
    }
    report.differenceCount += 1;
    if (report.differences.length < MAX_SIGNATURE_DIFFERENCES) {
      report.differences.push({
        inboxId: Number(row.id),
        channel: row.channel,
        receivedAt: new Date(row.received_at).toISOString(),
        stored: stored.outcome,
        now: now.outcome,
        storedCharset: stored.charset,
        nowCharset: now.charset,
        summary: now.summary,
      });
    }
  }

  /**
   * Today's verdict on the stored bytes. A notification's charset comes from its own parameters or the
   * stored Content-Type when they named one, and otherwise was the configured default then: that default is
   * given again, so that a changed `ALIPAY_INPUT_CHARSET` does not read old bytes another way.
   */
  private verdict(row: AuditRow, charset: Charset): Verdict {
    const { alipay } = this.config;
    const keys = {
      signType: alipay.signType,
      md5Keys: alipay.md5Keys,
      ...(alipay.alipayPublicKeyPem === undefined ? {} : { alipayPublicKeyPem: alipay.alipayPublicKeyPem }),
    };
    const body = row.raw_body!;
    if (row.channel === 'query') {
      const reply = parseSingleTradeQueryReply(body, { ...keys, charset });
      if (!reply.ok) return { outcome: 'UNREADABLE', charset: null, summary: reply.errors[0].message };
      if (reply.value.status !== 'found' && reply.value.status !== 'unverified') {
        return { outcome: 'NOT_SIGNED', charset: null, summary: `the answer is ${reply.value.status}` };
      }
      const { verification } = reply.value;
      return { outcome: verification.outcome, charset: verification.charset, summary: verification.summary };
    }
    const { explanation } = verifyNotification(body, {
      ...keys,
      defaultCharset: charset,
      ...(row.content_type === null ? {} : { contentType: row.content_type }),
      source: row.channel === 'return' ? 'return' : 'notify',
    });
    return { outcome: explanation.outcome, charset: explanation.charset, summary: explanation.summary };
  }
}
