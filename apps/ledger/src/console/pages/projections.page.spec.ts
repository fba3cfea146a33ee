import type { ParkedSummary } from '@ledger/event-store';
import type { ConsoleContext } from '../session/console-request';
import { renderProjectionsPage, type ProjectionRow } from './projections.page';

const context: ConsoleContext = {
  sessionId: 'session',
  operator: 'ops-alice',
  csrfToken: 'token',
  mode: 'demo',
  flash: null,
};
const noneParked = (projection: string): ParkedSummary => ({ projection, events: 0, streams: 0, first: [] });
const row = (projection: string, rebuild: ProjectionRow['rebuild'] = null): ProjectionRow => ({
  projection,
  checkpoint: { transactionId: '1', position: 100 },
  events: 0,
  seconds: 0,
  active: true,
  parked: noneParked(projection),
  rebuild,
});
const updatedAt = new Date('2026-12-07T05:05:00Z');

describe('the projections page', () => {
  it('reloads itself while a rebuild runs, and shows its progress as a bar', () => {
    const page = renderProjectionsPage(context, {
      projections: [
        row('order_status', { running: true, position: 40, headPosition: 160, updatedAt }),
        row('refund_batches'),
      ],
      consumers: [],
    });
    expect(page).toContain('<meta http-equiv="refresh" content="2"/>');
    expect(page).toContain('<progress value="40" max="160">25%</progress>');
    expect(page).toContain('position 40 of 160 (25%)');
    expect(page).toContain('2026-12-07 13:05:00 (UTC+8, Beijing)');
    expect(page).toContain('Rebuilding order_status');
  });

  it('does not reload for the shadows a stopped rebuild left, and says what they are', () => {
    const page = renderProjectionsPage(context, {
      projections: [row('order_status', { running: false, position: 10, headPosition: 160, updatedAt })],
      consumers: [],
    });
    expect(page).not.toContain('http-equiv');
    expect(page).toContain('stopped');
    expect(page).toContain('the next rebuild replaces them');
  });

  it('lists the parked events of a projection and of a process consumer, each stream held up', () => {
    const parkedAt = new Date('2026-12-07T01:00:00Z');
    const parked: ParkedSummary = {
      projection: 'fulfilment_outbox',
      events: 3,
      streams: 1,
      first: [
        {
          globalPosition: 41,
          transactionId: '7',
          streamId: 'order-龙井-1',
          version: 2,
          type: 'PaymentSucceeded',
          error: 'cannot apply <PaymentSucceeded>',
          attempts: 1,
          parkedAt,
          lastFailedAt: parkedAt,
        },
        {
          globalPosition: 42,
          transactionId: '7',
          streamId: 'order-龙井-1',
          version: 3,
          type: 'DeliveryCompleted',
          error: null,
          attempts: 0,
          parkedAt,
          lastFailedAt: null,
        },
      ],
    };
    const page = renderProjectionsPage(context, {
      projections: [row('order_status')],
      consumers: [{ projection: 'fulfilment_outbox', events: 0, seconds: 0, active: false, parked }],
    });
    expect(page).toContain('href="#parked-fulfilment_outbox"');
    expect(page).toContain('id="parked-fulfilment_outbox"');
    expect(page).toContain('3 in 1 stream(s)');
    expect(page).toContain('order-龙井-1');
    expect(page).toContain('cannot apply &lt;PaymentSucceeded>');
    expect(page).toContain('waits behind an earlier event of its stream');
    expect(page).toContain('And 1 more.');
    expect(page).not.toContain('None: every event applied.');
  });
});
