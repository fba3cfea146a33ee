// The Alipay sandbox as a library: the standalone app (apps/alipay-sandbox), the ledger's demo mode and the
// tests all build it through `createSandboxApp`; its modules, stores and state machines stay inside.
export { createSandboxApp } from './sandbox-app';
export { SandboxOptionsError } from './sandbox-options';
export type { ChaosSettings, SandboxMerchant, SandboxOptions } from './sandbox-options';
