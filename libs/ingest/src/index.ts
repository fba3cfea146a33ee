// What the background workers import from before they moved onto the command bus: the adapters of
// @ledger/commands under their old address. Removed with the adapters.
export {
  OrderCommands,
  RefundBatchCommands,
  RefundSubmissions,
  type CommandContext,
  type OrderCommandResult,
  type RefundBatchCommandResult as RefundBatchDecision,
  type RefundBatchView,
} from '@ledger/commands';
export { IngestModule } from './ingest.module';
