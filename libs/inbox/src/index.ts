export { InboxError, type InboxErrorCode } from './inbox-error';
export {
  INBOX_CHANNELS,
  INBOX_OUTCOMES,
  INBOX_ENDINGS,
  DEFAULT_INBOX_PAGE_SIZE,
  MAX_INBOX_PAGE_SIZE,
  type InboxChannel,
  type InboxOutcome,
  type InboxOutcomeDetail,
  type InboxNotificationView,
  type InboxFilters,
  type InboxPageRequest,
  type InboxPage,
  type NotifyVerifyEvidence,
  type StoredVerification,
  type RejectionReason,
  type FailureReason,
  type AppendedEventRef,
} from './inbox-notification';
export {
  extractIdentifiers,
  InboxStore,
  jsonbText,
  type InboxEntry,
  type InboxFinish,
  type PendingAppliedDetail,
} from './inbox-store';
export { storedMessage } from './stored-evidence';
export { InboxQueries } from './inbox-queries';
export { InboxRecovery, INTERRUPTED_AFTER_MS } from './inbox-recovery';
export { InboxPurge, PURGE_BATCH_SIZE, type PurgeReport, type PurgeRequest } from './inbox-purge';
export {
  MAX_NOTIFICATION_BYTES,
  NOTIFY_ID_CHECK,
  type RawNotification,
  type NotifyIdCheck,
  type NotificationReply,
  type IngestResult,
} from './raw-notification';
export {
  InboxSignatureAudit,
  MAX_SIGNATURE_DIFFERENCES,
  type SignatureAuditReport,
  type SignatureDifference,
} from './inbox-signature-audit';
export { InboxModule } from './inbox.module';
export { INBOX_MIGRATIONS } from './migrations';
