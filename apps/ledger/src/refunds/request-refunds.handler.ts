import { readYourWrites } from '../http/read-your-writes';
import { randomUUID } from 'node:crypto';
import { Inject } from '@nestjs/common';
import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { formatYuan, parseYuan } from '@ledger/alipay-protocol';
import { DomainError } from '@ledger/domain';
import {
  RequestRefundBatchCommand,
  type RefundBatchDecision,
  type RefundBatchView,
  type RefundRequestItem,
} from '@ledger/commands';
import { LedgerLogger } from '@ledger/platform';
import { NopwdSender, REFUNDS_OPTIONS, RefundRequests, type RefundsOptions } from '@ledger/processes';
import { OrderQueries, ProjectionsService } from '@ledger/projections';
import { ApiError } from '../http/api-error';
import { RefundItemRequest, type RefundBatchResponse, type SubmitRefundsRequest } from './refunds.dto';

/** How long a written batch may take to show in the admin API before the answer goes out anyway. */

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** A record as read from the body: the order may be named by its trade_no alone, until resolved. */
type ReadItem = Omit<RefundRequestItem, 'outTradeNo'> & { outTradeNo?: string };

function invalid(field: string, message: string): ApiError {
  return new ApiError('INVALID_REQUEST', `${field}: ${message}`, field);
}

/** The first problem of one record, as `items[i].field: message`. */
function firstProblem(raw: unknown, at: string): ApiError | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return invalid(at, 'must be an object with outTradeNo or tradeNo, amount and reason');
  }
  const errors = validateSync(plainToInstance(RefundItemRequest, raw), {
    whitelist: true,
    forbidNonWhitelisted: true,
    validationError: { target: false, value: false },
  });
  const [first] = errors;
  if (first === undefined) return undefined;
  return invalid(`${at}.${first.property}`, Object.values(first.constraints ?? {}).at(0) ?? 'is invalid');
}

/** `POST /refunds` as the client sent it, with its `Idempotency-Key`. */
export class RequestRefundsCommand extends Command<{ status: 200 | 201 | 202; body: RefundBatchResponse }> {
  constructor(
    readonly request: SubmitRefundsRequest,
    readonly idempotencyKey: string | undefined,
  ) {
    super();
  }
}

/**
 * Submits a batch refund (docs/product-rules.md): every record read and checked, the batch recorded with
 * its reservations (`RequestRefundBatchCommand`) before anything is sent. pwd answers the signed URL; nopwd
 * calls the gateway (the same batch_no on every call) and answers what it said: 201 submitted, accepted or
 * rejected; 202 recorded but unanswered (sent again later); 200 the batch an Idempotency-Key already made.
 */
@CommandHandler(RequestRefundsCommand)
export class RequestRefundsHandler implements ICommandHandler<RequestRefundsCommand> {
  constructor(
    private readonly commands: CommandBus,
    private readonly sender: NopwdSender,
    private readonly requests: RefundRequests,
    private readonly projections: ProjectionsService,
    private readonly logger: LedgerLogger,
    @Inject(REFUNDS_OPTIONS) private readonly options: RefundsOptions,
    private readonly orders: OrderQueries,
  ) {}

  async execute({
    request,
    idempotencyKey,
  }: RequestRefundsCommand): Promise<{ status: 200 | 201 | 202; body: RefundBatchResponse }> {
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw invalid('Idempotency-Key', 'must be 1 to 255 printable ASCII characters');
    }
    const items = await this.resolveTrades(this.readItems(request.items));
    const context = { causationId: `api:${randomUUID()}` };
    const submission = await this.commands.execute(
      new RequestRefundBatchCommand(
        { mode: request.mode, items, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) },
        context,
      ),
    );
    await this.awaitProjection(submission.decision);

    let { batch } = submission;
    const awaiting =
      batch.status === 'submitted' ||
      (batch.status === 'outcome_unknown' && batch.resendRejection === undefined);
    if (batch.submitted.mode === 'nopwd' && awaiting) {
      // A client's retry of a batch it made is a resend: the first call may have got through.
      const sent = await this.sender.send(batch.batchNo, this.options.attempts, context, submission.created);
      batch = sent.batch;
      await this.awaitProjection(sent.recorded);
    }
    const waiting =
      batch.submitted.mode === 'nopwd' &&
      (batch.status === 'submitted' || batch.status === 'outcome_unknown');
    return {
      status: waiting ? 202 : submission.created ? 201 : 200,
      body: this.toResponse(batch, submission.created),
    };
  }

  /** Each record validated on its own, amounts in fen; the first problem names its record. */
  private readItems(raw: readonly unknown[]): ReadItem[] {
    return raw.map((entry, index) => {
      const at = `items[${index}]`;
      const problem = firstProblem(entry, at);
      if (problem !== undefined) throw problem;
      const item = entry as RefundItemRequest;
      const amount = parseYuan(item.amount);
      if (!amount.ok) throw invalid(`${at}.amount`, amount.errors[0].message);
      const reasonFault = this.requests.reasonFault(item.reason);
      if (reasonFault !== undefined) throw invalid(`${at}.reason`, reasonFault);
      return {
        ...(item.outTradeNo === undefined ? {} : { outTradeNo: item.outTradeNo }),
        ...(item.tradeNo === undefined ? {} : { tradeNo: item.tradeNo }),
        amount: amount.value,
        reason: item.reason,
      };
    });
  }

  /**
   * The order of each record given by its trade_no alone, from the order status projection once it shows
   * every acknowledged payment (docs/operations.md, "Read-your-writes"); the order's stream then confirms
   * the trade.
   */
  private async resolveTrades(items: ReadItem[]): Promise<RefundRequestItem[]> {
    const wanted = [
      ...new Set(items.flatMap((item) => (item.outTradeNo === undefined ? [item.tradeNo!] : []))),
    ];
    if (wanted.length > 0) await readYourWrites(this.projections, this.logger, 'refunds by trade_no');
    const orders = await this.orders.outTradeNosByTradeNo(wanted);
    return items.map((item, index) => {
      if (item.outTradeNo !== undefined) return { ...item, outTradeNo: item.outTradeNo };
      const tradeNo = item.tradeNo!;
      const found = orders.get(tradeNo) ?? [];
      if (found.length === 0) {
        throw new DomainError(
          'ORDER_NOT_FOUND',
          `items[${index}]: no order of this ledger has trade_no ${tradeNo}`,
          `items[${index}].tradeNo`,
        );
      }
      if (found.length > 1) {
        throw invalid(`items[${index}].tradeNo`, `trade_no ${tradeNo} names several orders; give outTradeNo`);
      }
      return { ...item, outTradeNo: found[0], tradeNo };
    });
  }

  private async awaitProjection(decision: RefundBatchDecision | undefined): Promise<void> {
    if (decision?.kind !== 'appended') return;
    await readYourWrites(this.projections, this.logger, `refund batch ${decision.streamId} is written`, {
      transactionId: decision.transactionId,
      position: decision.position,
    });
  }

  private toResponse(batch: RefundBatchView, created: boolean): RefundBatchResponse {
    const { submitted } = batch;
    const response: RefundBatchResponse = {
      batchNo: batch.batchNo,
      mode: submitted.mode,
      state: batch.status,
      created,
      batchNum: submitted.batchNum,
      totalAmount: formatYuan(submitted.totalAmount),
      submittedAt: submitted.submittedAt,
      items: submitted.items.map((item) => ({
        outTradeNo: item.outTradeNo,
        tradeNo: item.tradeNo,
        amount: formatYuan(item.amount),
        reason: item.reason,
      })),
    };
    if (submitted.mode === 'pwd' && batch.status === 'submitted') {
      response.refundUrl = this.requests.pwd(submitted).url;
      response.message =
        'open refundUrl and confirm with the payment password; the result comes as batch_refund_notify';
    }
    if (batch.acceptance !== undefined) response.reply = batch.acceptance.reply;
    if (batch.rejection !== undefined) {
      response.error = batch.rejection.code;
      response.message = `Alipay rejected the batch (${batch.rejection.code}): nothing was refunded and the reserved amounts are refundable again`;
    }
    if (submitted.mode === 'nopwd' && batch.status === 'submitted') {
      response.message =
        'the gateway did not answer; the batch is recorded with its reservations and is sent again under the same batch_no until Alipay answers';
    }
    if (batch.status === 'outcome_unknown') {
      response.message =
        "a call went unanswered and may have reached Alipay: the reservations are held until the result, an acceptance, or an operator marks the batch after checking Alipay's console";
    }
    return response;
  }
}
