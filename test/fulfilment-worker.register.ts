import type { DynamicModule } from '@nestjs/common';
import { FulfilmentModule } from '../apps/ledger/src/fulfilment/fulfilment.module';
import { LedgerModule } from '../apps/ledger/src/ledger.module';

// Puts the fulfilment worker into the ledger application built by `createLedgerApp` (and so `main.ts`, when
// preloaded with `node -r`), for the fulfilment tests. LedgerModule does not import FulfilmentModule yet:
// the worker appends to every paid order's stream, and there is no setting yet to keep it off in the tests
// of the notification pipeline, which expect exact event lists. Once it does, this becomes a no-op.

const forRoot = LedgerModule.forRoot.bind(LedgerModule);

LedgerModule.forRoot = (runtime: Parameters<typeof LedgerModule.forRoot>[0]): DynamicModule => {
  const module = forRoot(runtime);
  const imports = module.imports ?? [];
  return imports.includes(FulfilmentModule) ? module : { ...module, imports: [...imports, FulfilmentModule] };
};
