import { readYourWrites } from '../http/read-your-writes';
import { randomUUID } from 'node:crypto';
import { Command, CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { formatYuan, parseYuan, type SignedRequest } from '@ledger/alipay-protocol';
import { PlaceOrderCommand } from '@ledger/commands';
import { LedgerLogger } from '@ledger/platform';
import { ProjectionsService } from '@ledger/projections';
import { ApiError } from '../http/api-error';
import { clientFault, PaymentRequests, unsignedParameters } from './payment-requests';
import type { PlacedOrderResponse, PlaceOrderRequest } from './place-order.dto';

/** How long a placed order may take to show in the admin API before the answer goes out anyway. */

/** `POST /orders` as the client sent it: answered with the signed payment request. */
export class PlaceOrderRequestCommand extends Command<PlacedOrderResponse> {
  constructor(readonly request: PlaceOrderRequest) {
    super();
  }
}

/**
 * Signs the order's payment request, places the order with the request's parameters frozen
 * (`PlaceOrderCommand`), and waits for the projections before answering (read-your-writes).
 */
@CommandHandler(PlaceOrderRequestCommand)
export class PlaceOrderRequestHandler implements ICommandHandler<PlaceOrderRequestCommand> {
  constructor(
    private readonly payments: PaymentRequests,
    private readonly commands: CommandBus,
    private readonly projections: ProjectionsService,
    private readonly logger: LedgerLogger,
  ) {}

  async execute({ request }: PlaceOrderRequestCommand): Promise<PlacedOrderResponse> {
    const service = request.service ?? 'create_direct_pay_by_user';
    const totalFee = parseYuan(request.totalFee, { field: 'totalFee' });
    if (!totalFee.ok) throw invalid('totalFee', totalFee.errors[0].message);
    const signed = this.payments.sign({
      outTradeNo: request.outTradeNo,
      subject: request.subject,
      ...(request.body === undefined ? {} : { body: request.body }),
      totalFee: totalFee.value,
      service,
    });
    if (!signed.ok) {
      const fault = clientFault(signed.errors);
      if (fault === undefined) {
        throw new Error(`the payment request cannot be built: ${JSON.stringify(signed.errors)}`);
      }
      throw invalid(fault.field, fault.message);
    }

    const decision = await this.commands.execute(
      new PlaceOrderCommand(
        {
          type: 'PlaceOrder',
          outTradeNo: request.outTradeNo,
          subject: request.subject,
          ...(request.body === undefined ? {} : { body: request.body }),
          totalFee: totalFee.value,
          service,
          sellerId: this.payments.seller,
          requestParameters: unsignedParameters(signed.value),
          placedAt: new Date().toISOString(),
        },
        { causationId: `api:${randomUUID()}` },
      ),
    );
    if (decision.kind === 'appended') {
      await readYourWrites(this.projections, this.logger, `order ${request.outTradeNo} is placed`, {
        transactionId: decision.transactionId,
        position: decision.position,
      });
    }
    // A repeated order only got here if every parameter equals the frozen ones (PlaceOrder compares them
    // all), so this request is the one built from the frozen parameters.
    return toResponse(
      request.outTradeNo,
      service,
      totalFee.value,
      decision.kind === 'appended',
      signed.value,
    );
  }
}

function invalid(field: string, message: string): ApiError {
  return new ApiError('INVALID_REQUEST', `${field}: ${message}`, field);
}

function toResponse(
  outTradeNo: string,
  service: PlacedOrderResponse['service'],
  totalFee: number,
  created: boolean,
  request: SignedRequest,
): PlacedOrderResponse {
  return {
    outTradeNo,
    service,
    totalFee: formatYuan(totalFee),
    created,
    paymentUrl: request.url,
    form: {
      action: request.formAction,
      method: 'POST',
      charset: request.charset,
      fields: request.params.map(({ name, value }) => ({ name, value })),
    },
  };
}
