import { ProjectionsService } from '@ledger/projections';
import { eventually } from './ledger-sandbox.fixture';
import { newOutTradeNo, placeOrder, startLedger, type RunningLedger } from './alipay-notify.fixture';

// GET /health/ready (docs/operations.md, "Readiness"): the database, the migrations, the projections' lag;
// GET /health stays the cheap liveness check whatever readiness says.

interface HealthBody {
  status: 'ok' | 'error';
  info: Record<string, Record<string, unknown>>;
  error: Record<string, Record<string, unknown>>;
}

describe('GET /health/ready', () => {
  let running: RunningLedger;

  // Bound 0: any event a projection has not applied makes the ledger not ready, whatever its age.
  beforeAll(async () => {
    running = await startLedger('readiness', { READY_MAX_PROJECTION_LAG_SECONDS: '0' });
  });

  afterAll(async () => {
    await running?.close();
  });

  async function get(path: string): Promise<{ status: number; body: HealthBody }> {
    const response = await fetch(`${running.baseUrl}${path}`);
    return { status: response.status, body: (await response.json()) as HealthBody };
  }

  const ready = () => get('/health/ready');

  it('is 200 when the database answers, every migration is applied and the projections are current', async () => {
    const { status, body } = await ready();
    expect(status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.info).toMatchObject({
      database: { status: 'up' },
      migrations: { status: 'up', applied: expect.any(Number) as number },
      projections: {
        status: 'up',
        maxLagSeconds: 0,
        lag: {
          order_status: { events: 0, seconds: 0 },
          refund_batches: { events: 0, seconds: 0 },
          money_movements: { events: 0, seconds: 0 },
        },
      },
      ledger: { status: 'up', mode: 'demo' },
    });
  });

  it('is 503 while a projection lags beyond the bound, naming it, and /health stays 200', async () => {
    const projections = running.ledger.app.get(ProjectionsService);
    // A stopped projector: the order's event waits, unapplied, for as long as the test needs.
    await projections.beforeApplicationShutdown();
    try {
      await placeOrder(running.commands, newOutTradeNo('LAG'));
      const { status, body } = await ready();
      expect(status).toBe(503);
      expect(body.status).toBe('error');
      expect(body.error.projections).toMatchObject({
        status: 'down',
        maxLagSeconds: 0,
        behind: ['order_status', 'refund_batches', 'money_movements'],
        lag: { order_status: { events: 1 }, refund_batches: { events: 1 }, money_movements: { events: 1 } },
      });
      expect(
        (body.error.projections.lag as Record<string, { seconds: number }>).order_status.seconds,
      ).toBeGreaterThan(0);
      expect(body.info).toMatchObject({ database: { status: 'up' }, migrations: { status: 'up' } });
      expect((await get('/health')).status).toBe(200);
    } finally {
      await projections.onApplicationBootstrap();
    }
    await eventually('ready once the projector caught up', ready, ({ status }) => status === 200);
  });

  it('is 503 while a migration this build knows is not applied, naming it, and /health stays 200', async () => {
    const { dataSource } = running.database;
    const [last] = await dataSource.query<{ timestamp: string; name: string }[]>(
      `SELECT timestamp, name FROM migrations ORDER BY timestamp DESC LIMIT 1`,
    );
    await dataSource.query(`DELETE FROM migrations WHERE name = $1`, [last.name]);
    try {
      const { status, body } = await ready();
      expect(status).toBe(503);
      expect(body.error).toEqual({ migrations: { status: 'down', pending: [last.name] } });
      expect((await get('/health')).status).toBe(200);
    } finally {
      await dataSource.query(`INSERT INTO migrations (timestamp, name) VALUES ($1, $2)`, [
        last.timestamp,
        last.name,
      ]);
    }
    expect((await ready()).status).toBe(200);
  });
});
