import { Body, Controller, Headers, Post, Res, UseGuards } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiHeader,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiUnauthorizedResponse,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { AdminTokenGuard } from '../http/admin-token.guard';
import { RequestRefundsCommand } from './request-refunds.handler';
import { RefundBatchResponse, SubmitRefundsRequest } from './refunds.dto';

interface StatusSettable {
  status(code: number): unknown;
}

@ApiTags('refunds')
@ApiBearerAuth()
@UseGuards(AdminTokenGuard)
@Controller('refunds')
export class RefundsController {
  constructor(private readonly commands: CommandBus) {}

  /**
   * Submits a batch refund (docs/operations.md, "Submitting a batch"): every record checked against the
   * ledger, a batch_no allocated and `RefundBatchSubmitted` appended with the reservations before anything is
   * sent. pwd answers the signed URL; nopwd calls the gateway (the same batch_no on every call) and answers
   * what it said.
   */
  @Post()
  @ApiOperation({ summary: 'Submit a batch refund (pwd: a signed URL; nopwd: sent to Alipay at once)' })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description:
      'Retrying with the same key answers the batch the first request made instead of a second batch',
  })
  @ApiCreatedResponse({
    type: RefundBatchResponse,
    description: 'submitted (pwd), accepted or rejected (nopwd)',
  })
  @ApiAcceptedResponse({
    type: RefundBatchResponse,
    description: 'nopwd: recorded, but the gateway did not answer; it is sent again under the same batch_no',
  })
  @ApiOkResponse({ type: RefundBatchResponse, description: 'the batch an Idempotency-Key already made' })
  @ApiBadRequestResponse({ description: 'invalid input; the message names the field, e.g. items[2].amount' })
  @ApiUnauthorizedResponse({ description: 'missing or wrong bearer token' })
  @ApiNotFoundResponse({ description: 'an unknown order or trade; the message names the record' })
  @ApiConflictResponse({
    description: 'refused by the ledger: not paid, not refundable by batch, more than is refundable',
  })
  @ApiUnprocessableEntityResponse({ description: 'the Idempotency-Key was used for another request' })
  async submit(
    @Body() request: SubmitRefundsRequest,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Res({ passthrough: true }) response: StatusSettable,
  ): Promise<RefundBatchResponse> {
    const answered = await this.commands.execute(new RequestRefundsCommand(request, idempotencyKey));
    response.status(answered.status);
    return answered.body;
  }
}
