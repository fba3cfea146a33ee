import type { ServerResponse } from 'node:http';
import { Body, Get, Post, Query, Res } from '@nestjs/common';
import { LedgerLogger, OperatorSessions } from '@ledger/platform';
import { ProcessConsumers } from '@ledger/processes';
import { LEDGER_PROJECTION_NAMES, ProjectionsService } from '@ledger/projections';
import { ConsoleController, refusalOf } from './console-controller';
import { reasonProblem } from './console-orders.controller';
import {
  ALL_PROJECTIONS,
  rebuildSummary,
  renderProjectionsPage,
  type ProjectionsPageData,
} from './pages/projections.page';
import { ConsoleSession, type ConsoleContext } from './session/console-request';
import { confirmStep, formValue, isConfirmed } from './views/forms';
import { html } from './views/html';
import { renderConsolePage } from './views/layout';
import { redirect, sendHtml } from './views/respond';

/** Parked events listed per projection; the rest are counted. */
const PARKED_SHOWN = 20;
const PAGE = '/console/projections';
const CONTEXT = 'Console';

/**
 * `/console/projections` (docs/console.md, "Projections"): lag, parked events and rebuilds, read from the
 * database so that any instance shows the same; a rebuild asked for here runs in the background.
 */
@ConsoleController()
export class ConsoleProjectionsController {
  constructor(
    private readonly projections: ProjectionsService,
    private readonly consumers: ProcessConsumers,
    private readonly sessions: OperatorSessions,
    private readonly logger: LedgerLogger,
  ) {}

  @Get('projections')
  async page(
    @ConsoleSession() context: ConsoleContext,
    @Query('rebuild') rebuild: unknown,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const [overview, parked, fulfilmentLag, refundWorkLag, consumersParked] = await Promise.all([
      this.projections.overview(),
      this.projections.parked(PARKED_SHOWN),
      this.consumers.fulfilmentLag(),
      this.consumers.refundWorkLag(),
      this.consumers.parked(PARKED_SHOWN),
    ]);
    const active = new Set(
      [...this.projections.status(), ...this.consumers.projector.status()]
        .filter((status) => status.active)
        .map((status) => status.projection),
    );
    const parkedOf = (projection: string) =>
      [...parked, ...consumersParked].find((summary) => summary.projection === projection) ?? {
        projection,
        events: 0,
        streams: 0,
        first: [],
      };
    const data: ProjectionsPageData = {
      projections: overview.map((row) => ({
        ...row,
        active: active.has(row.projection),
        parked: parkedOf(row.projection),
      })),
      consumers: [fulfilmentLag, refundWorkLag].map(({ projection, events, seconds }) => ({
        projection,
        events,
        seconds,
        active: active.has(projection),
        parked: parkedOf(projection),
      })),
      ...(typeof rebuild === 'string' && LEDGER_PROJECTION_NAMES.includes(rebuild) ? { rebuild } : {}),
    };
    sendHtml(response, 200, renderProjectionsPage(context, data));
  }

  /**
   * A rebuild of one projection or of all, in two steps: the first POST shows what it will do, the confirmed
   * one starts it in the background, waits only until it has started (or was refused: another rebuild or a
   * verification of it runs, here or on another instance), logs who asked and why, and sends the browser
   * to the page that follows its progress.
   */
  @Post('projections/rebuild')
  async rebuild(
    @ConsoleSession() context: ConsoleContext,
    @Body() body: unknown,
    @Res() response: ServerResponse,
  ): Promise<void> {
    const projection = formValue(body, 'projection');
    const reason = formValue(body, 'reason');
    const names = projection === ALL_PROJECTIONS ? LEDGER_PROJECTION_NAMES : [projection];
    const refuse = (status: number, message: string) =>
      sendHtml(
        response,
        status,
        renderConsolePage(context, {
          title: 'Rebuild',
          section: 'projections',
          body: html`<section>
            <p class="flash flash-error" role="alert">${message}</p>
            <p><a href=${`${PAGE}#rebuild`} class="button">Back to the projections</a></p>
          </section>`,
        }),
      );
    const problem =
      projection === ALL_PROJECTIONS || LEDGER_PROJECTION_NAMES.includes(projection)
        ? reasonProblem(reason)
        : `There is no projection "${projection}": choose one of ${LEDGER_PROJECTION_NAMES.join(', ')}, or ${ALL_PROJECTIONS}.`;
    if (problem !== undefined) {
      refuse(400, problem);
      return;
    }
    const running = (await this.projections.rebuildStatus()).filter(
      (status) => status.running && names.includes(status.projection),
    );
    if (running.length > 0) {
      refuse(
        409,
        `${running.map((status) => `${status.projection} is being rebuilt now (position ${status.position} of ${status.headPosition})`).join('; ')}: wait until it is done.`,
      );
      return;
    }
    if (!isConfirmed(body)) {
      sendHtml(
        response,
        200,
        renderConsolePage(context, {
          title: projection === ALL_PROJECTIONS ? 'Rebuild every projection' : `Rebuild ${projection}`,
          section: 'projections',
          body: confirmStep(context, {
            action: `${PAGE}/rebuild`,
            summary: rebuildSummary(context, names, reason),
            hidden: { projection, reason },
            confirmLabel: 'Rebuild',
            cancelHref: PAGE,
          }),
        }),
      );
      return;
    }

    const what = projection === ALL_PROJECTIONS ? 'every projection' : projection;
    let started!: () => void;
    const begun = new Promise<void>((resolve) => (started = resolve));
    const rebuild = this.projections.rebuild(projection === ALL_PROJECTIONS ? undefined : projection, {
      onStarted: () => started(),
    });
    try {
      // Not the whole rebuild: until it holds its guard, or is refused.
      await Promise.race([begun, rebuild]);
    } catch (error) {
      const refusal = refusalOf(error);
      this.logger.warn(
        `console: ${context.operator} asked to rebuild ${what}, refused: ${refusal.message}`,
        CONTEXT,
      );
      refuse(refusal.status, `The ledger refused: ${refusal.message}`);
      return;
    }
    this.logger.log(`console: ${context.operator} started a rebuild of ${what}; reason: ${reason}`, CONTEXT);
    rebuild.then(
      (report) => {
        const counts = report.projections
          .map(
            (done) => `${done.projection}: ${done.events} events, ${done.parked} parked, ${done.rows} rows`,
          )
          .join('; ');
        this.logger.log(
          `console: the rebuild of ${what} that ${context.operator} asked for is done in ${report.durationMs} ms (${counts})`,
          CONTEXT,
        );
      },
      (error: unknown) => {
        this.logger.error(
          `console: the rebuild of ${what} that ${context.operator} asked for failed: ${String(error)}`,
          error instanceof Error ? error.stack : undefined,
          CONTEXT,
        );
      },
    );
    await this.sessions.leaveFlash(context.sessionId, {
      kind: 'success',
      text: `The rebuild of ${what} has started; this page follows its progress.`,
    });
    redirect(response, PAGE);
  }
}
