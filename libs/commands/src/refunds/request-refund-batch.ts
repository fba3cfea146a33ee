import { createHash } from 'node:crypto';
import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { InjectDataSource } from '@nestjs/typeorm';
import { formatBatchNo, parseBatchNo } from '@ledger/alipay-protocol';
import {
  DomainError,
  decideOrder,
  type DomainErrorCode,
  type Fen,
  type OrderState,
  type RefundBatchItem,
  type RefundMode,
} from '@ledger/domain';
import type { DatabaseSession } from '@ledger/platform';
import { DataSource } from 'typeorm';
import { CommandError } from '../command-error';
import type { CommandContext } from '../stream/command-step';
import type { RefundBatchDecision } from '../stream/refund-batch-step';
import { StreamReads, refundBatchViewOf, type RefundBatchView } from '../stream/stream-reads';
import { SubmitRefundBatchCommand } from './refund-batch-commands';

/** One record as the client asked for it. `tradeNo`, when given, must be the order's Alipay trade. */
export interface RefundRequestItem {
  outTradeNo: string;
  tradeNo?: string;
  amount: Fen;
  reason: string;
}

/** `POST /refunds` once the HTTP edge has validated it and turned amounts into fen. */
export interface RefundRequest {
  mode: RefundMode;
  items: readonly RefundRequestItem[];
  /** The client's `Idempotency-Key`: the same key again answers the batch it made (docs/operations.md). */
  idempotencyKey?: string;
}

/** What `submit` did: `created` is false when an `Idempotency-Key` named a batch already submitted. */
export interface RefundSubmission {
  created: boolean;
  batch: RefundBatchView;
  /** The submission's write (absent for a batch already submitted): what to wait for, for read-your-writes. */
  decision?: Extract<RefundBatchDecision, { kind: 'appended' }>;
}

// The order's refusals of a reservation, which name an order, not the record of the batch that asked.
const ORDER_REFUSALS: ReadonlySet<DomainErrorCode> = new Set([
  'INVALID_OUT_TRADE_NO',
  'ORDER_NOT_FOUND',
  'ORDER_NOT_PAID',
  'REFUND_NOT_ALLOWED',
  'REFUND_EXCEEDS_REFUNDABLE',
  'REFUND_RESERVATION_CONFLICT',
]);

/** Serials are zero-padded to this width: `batch_no` = yyyyMMdd + 8 digits (16), longer once they run out. */
const SERIAL_WIDTH = 8;

/**
 * How long a key's first request may take before its batch is on record: the ledger checks and the
 * submission's transaction. A retry within it is told to wait (409); after it, the retry takes the
 * submission over (the first request died before its append, or was refused).
 */
const KEY_IN_USE_MS = 30_000;

/** Orders loaded at once while a batch is checked. */
const LOAD_CONCURRENCY = 8;

function requestHash(request: RefundRequest): string {
  const canonical = JSON.stringify([
    request.mode,
    request.items.map((item) => [item.outTradeNo, item.tradeNo ?? null, item.amount, item.reason]),
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

function itemError(index: number, error: DomainError): DomainError {
  const at = `items[${index}]`;
  return new DomainError(error.code, `${at}: ${error.message}`, `${at}.${error.field ?? 'outTradeNo'}`);
}

/** `POST /refunds` once read: records the batch, or answers the batch an `Idempotency-Key` already made. */
export class RequestRefundBatchCommand extends Command<RefundSubmission> {
  constructor(
    readonly request: RefundRequest,
    readonly context: CommandContext = {},
    readonly now = new Date(),
  ) {
    super();
  }
}

/**
 * The next `batch_no`: the Beijing date of `now` (the instant that is also the batch's `refund_date`,
 * docs/alipay-protocol.md, "batch_no") and a serial no batch had before.
 */
export async function allocateBatchNo(database: DatabaseSession, now: Date): Promise<string> {
  const [{ serial }] = await database.query<{ serial: string }>(
    `SELECT nextval('refund_batch_serial')::text AS serial`,
  );
  const batchNo = formatBatchNo(now, serial.padStart(SERIAL_WIDTH, '0'));
  if (!batchNo.ok) throw new Error(`cannot form a batch_no: ${batchNo.errors[0].message}`);
  return batchNo.value;
}

/**
 * Submits refund batches for `POST /refunds` (docs/product-rules.md): checks every record against the ledger,
 * naming the record at fault, allocates the `batch_no` from a durable sequence, and appends
 * `RefundBatchSubmitted`, whose records the domain reserves on their orders in the same transaction
 * (`SubmitRefundBatchCommand`), before anything is sent to Alipay. Sending is the caller's. An
 * `Idempotency-Key` maps to the batch it made, so that a client's retry answers that batch.
 *
 * @throws DomainError the ledger's refusals, naming the record (`items[2].amount`): `ORDER_NOT_FOUND`,
 *   `ORDER_NOT_PAID`, `REFUND_NOT_ALLOWED`, `REFUND_EXCEEDS_REFUNDABLE`, `INVALID_BATCH`.
 * @throws CommandError `IDEMPOTENCY_KEY_REUSED` (the key came with another request),
 *   `IDEMPOTENCY_KEY_IN_USE` (its first request is still being submitted).
 */
@CommandHandler(RequestRefundBatchCommand)
export class RequestRefundBatchHandler implements ICommandHandler<RequestRefundBatchCommand> {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly reads: StreamReads,
    private readonly bus: CommandBus,
  ) {}

  async execute({ request, context, now }: RequestRefundBatchCommand): Promise<RefundSubmission> {
    const key = request.idempotencyKey;
    let batchNo: string;
    if (key === undefined) {
      batchNo = await this.allocateBatchNo(now);
    } else {
      const claim = await this.claimKey(key, requestHash(request), now);
      if (claim.existing !== undefined) return { created: false, batch: claim.existing };
      batchNo = claim.batchNo;
    }
    try {
      const items = await this.check(request.items, batchNo, now);
      const decision = await this.bus.execute(
        new SubmitRefundBatchCommand(
          { type: 'SubmitRefundBatch', batchNo, mode: request.mode, items, submittedAt: now.toISOString() },
          context,
        ),
      );
      const batch = refundBatchViewOf(batchNo, decision.state);
      if (batch === undefined) throw new Error(`batch ${batchNo} is not on record after its submission`);
      return decision.kind === 'appended' ? { created: true, batch, decision } : { created: false, batch };
    } catch (error) {
      // A refusal wrote nothing: the key is free for a corrected request. After any other failure the batch
      // may be on record (a lost commit acknowledgement): the key stays, and a retry finds out.
      if (key !== undefined && error instanceof DomainError) await this.releaseKey(key, batchNo);
      if (error instanceof DomainError && ORDER_REFUSALS.has(error.code)) {
        // Refused inside the transaction: another batch took the amount since the check. Check again to
        // name the record; if the ledger has moved on once more, the refusal stands as it was.
        await this.check(request.items, batchNo, now);
      }
      throw error;
    }
  }

  private allocateBatchNo(now: Date): Promise<string> {
    return allocateBatchNo(this.dataSource, now);
  }

  /**
   * Every record against its order's stream, as the reservation will be decided (paid, an instant trade still
   * open, the amount within paid − refunded − reserved), each refusal naming its record. Returns the records
   * with the order's trade_no.
   */
  private async check(
    requested: readonly RefundRequestItem[],
    batchNo: string,
    now: Date,
  ): Promise<RefundBatchItem[]> {
    const items: RefundBatchItem[] = new Array<RefundBatchItem>(requested.length);
    const seen = new Map<string, number>();
    requested.forEach((item, index) => {
      const first = seen.get(item.outTradeNo);
      if (first !== undefined) {
        throw new DomainError(
          'INVALID_BATCH',
          `items[${index}]: order ${item.outTradeNo} is already in the batch (items[${first}]); a trade is refunded at most once per batch`,
          `items[${index}]`,
        );
      }
      seen.set(item.outTradeNo, index);
    });
    for (let start = 0; start < requested.length; start += LOAD_CONCURRENCY) {
      const chunk = requested.slice(start, start + LOAD_CONCURRENCY);
      const checked = await Promise.allSettled(
        chunk.map((item, offset) => this.checkItem(item, start + offset, batchNo, now)),
      );
      // The first record at fault is the one named, whichever load finished first.
      checked.forEach((result, offset) => {
        if (result.status === 'rejected') throw result.reason;
        items[start + offset] = result.value;
      });
    }
    return items;
  }

  private async checkItem(
    item: RefundRequestItem,
    index: number,
    batchNo: string,
    now: Date,
  ): Promise<RefundBatchItem> {
    let state: OrderState;
    try {
      ({ state } = await this.reads.order(item.outTradeNo));
      decideOrder(
        {
          type: 'ReserveBatchRefund',
          outTradeNo: item.outTradeNo,
          batchNo,
          amount: item.amount,
          reason: item.reason,
          requestedAt: now.toISOString(),
        },
        state,
      );
    } catch (error) {
      throw error instanceof DomainError ? itemError(index, error) : error;
    }
    const tradeNo = state.tradeNo;
    // decideOrder refuses an order without a recognised payment, so the trade is known here.
    if (tradeNo === undefined) throw new Error(`order ${item.outTradeNo} is paid without a trade_no`);
    if (item.tradeNo !== undefined && item.tradeNo !== tradeNo) {
      throw new DomainError(
        'ORDER_NOT_FOUND',
        `items[${index}]: trade ${item.tradeNo} is not the trade of order ${item.outTradeNo}`,
        `items[${index}].tradeNo`,
      );
    }
    return { outTradeNo: item.outTradeNo, tradeNo, amount: item.amount, reason: item.reason };
  }

  /**
   * Binds `key` to a new batch_no, or finds what it is bound to: the batch, when on record; a refusal while
   * its first request may still be submitting; else the submission is taken over, under the same batch_no
   * when it is still dated today (Beijing), a new one otherwise.
   */
  private async claimKey(
    key: string,
    hash: string,
    now: Date,
  ): Promise<{ batchNo: string; existing?: undefined } | { existing: RefundBatchView }> {
    const fresh = await this.allocateBatchNo(now);
    const inserted = await this.dataSource.query<{ batch_no: string }[]>(
      `INSERT INTO refund_submission_keys (idempotency_key, request_hash, batch_no) VALUES ($1, $2, $3)
       ON CONFLICT (idempotency_key) DO NOTHING RETURNING batch_no`,
      [key, hash, fresh],
    );
    if (inserted.length === 1) return { batchNo: fresh };

    const rows = await this.dataSource.query<{ request_hash: string; batch_no: string; in_use: boolean }[]>(
      `SELECT request_hash, batch_no, created_at > now() - make_interval(secs => $2) AS in_use
       FROM refund_submission_keys WHERE idempotency_key = $1`,
      [key, KEY_IN_USE_MS / 1000],
    );
    // Released by a refusal in between: claim it again.
    if (rows.length === 0) return this.claimKey(key, hash, now);
    const [row] = rows;
    if (row.request_hash !== hash) {
      throw new CommandError(
        'IDEMPOTENCY_KEY_REUSED',
        `Idempotency-Key ${key} was sent with another request (batch ${row.batch_no}); use a new key for a new batch`,
        'Idempotency-Key',
      );
    }
    const existing = await this.reads.refundBatchView(row.batch_no);
    if (existing !== undefined) return { existing };
    if (row.in_use) throw inUse(key);
    const batchNo = parseBatchNo(row.batch_no, now).ok ? row.batch_no : fresh;
    const taken = await this.dataSource.query<unknown[]>(
      `UPDATE refund_submission_keys SET batch_no = $3, created_at = now()
       WHERE idempotency_key = $1 AND batch_no = $2 RETURNING batch_no`,
      [key, row.batch_no, batchNo],
    );
    if (taken.length === 0) throw inUse(key);
    return { batchNo };
  }

  private async releaseKey(key: string, batchNo: string): Promise<void> {
    await this.dataSource.query(
      `DELETE FROM refund_submission_keys WHERE idempotency_key = $1 AND batch_no = $2`,
      [key, batchNo],
    );
  }
}

function inUse(key: string): CommandError {
  return new CommandError(
    'IDEMPOTENCY_KEY_IN_USE',
    `a request with Idempotency-Key ${key} is still being submitted; retry in a few seconds`,
    'Idempotency-Key',
  );
}
