import {
  type DynamicModule,
  Inject,
  type LoggerService,
  Module,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { ControlController } from './api/control.controller';
import { GatewayController } from './gateway/gateway.controller';
import { ChaosControl } from './notifications/chaos-control';
import { httpTransport, type Transport } from './notifications/http-transport';
import { notificationKey } from './notifications/notification-params';
import { Notifier } from './notifications/notifier';
import { PagesController } from './pages/pages.controller';
import { Sandbox } from './sandbox.service';
import { SANDBOX_OPTIONS, type ResolvedSandboxOptions } from './sandbox-options';
import { SandboxStore } from './store/sandbox-store';

/** The sandbox: gateway.do, its pages, its control API, and the notifier that runs on timers. */
@Module({})
export class SandboxModule implements OnApplicationShutdown {
  constructor(@Inject(Notifier) private readonly notifier: Notifier) {}

  static forRoot(
    options: ResolvedSandboxOptions,
    logger: LoggerService | undefined,
    transport: Transport = httpTransport,
  ): DynamicModule {
    return {
      module: SandboxModule,
      controllers: [GatewayController, PagesController, ControlController],
      providers: [
        { provide: SANDBOX_OPTIONS, useValue: options },
        { provide: SandboxStore, useValue: new SandboxStore() },
        { provide: ChaosControl, useValue: new ChaosControl(options.chaos) },
        {
          provide: Notifier,
          inject: [SandboxStore, ChaosControl],
          useFactory: (store: SandboxStore, chaos: ChaosControl) =>
            new Notifier({
              store,
              chaos,
              clock: options.clock,
              retrySchedule: options.retrySchedule,
              timeScale: options.timeScale,
              transport,
              keyFor: (partner, signType) => {
                const merchant = options.merchants.get(partner);
                if (merchant === undefined) throw new Error(`unknown partner ${partner}`);
                return notificationKey(merchant, signType);
              },
              deliveryTimeoutMs: options.deliveryTimeoutMs,
              autoDeliver: true,
              ...(logger === undefined ? {} : { logger }),
            }),
        },
        Sandbox,
      ],
      exports: [Sandbox, SandboxStore, Notifier, ChaosControl],
    };
  }

  async onApplicationShutdown(): Promise<void> {
    await this.notifier.stop();
  }
}
