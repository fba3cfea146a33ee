import { Inbox1732000000003 } from './1732000000003-inbox';
import { InboxRecordNotification1732000000007 } from './1732000000007-inbox-record-notification';
import { InboxHotOutcomes1732000000008 } from './1732000000008-inbox-hot-outcomes';
import { InboxPurge1732000000009 } from './1732000000009-inbox-purge';
import { DropInboxRecordNotification1732000000013 } from './1732000000013-drop-inbox-record-notification';
import { InboxQueryChannel1732000000550 } from './1732000000550-inbox-query-channel';
import { InboxImportChannel1732000000700 } from './1732000000700-inbox-import-channel';
import { InboxRowsInline1732000000701 } from './1732000000701-inbox-rows-inline';

/** The inbox's tables: raw notifications, their de-duplication keys, the purge and its audit. */
export const INBOX_MIGRATIONS = [
  Inbox1732000000003,
  InboxRecordNotification1732000000007,
  InboxHotOutcomes1732000000008,
  InboxPurge1732000000009,
  DropInboxRecordNotification1732000000013,
  InboxQueryChannel1732000000550,
  InboxImportChannel1732000000700,
  InboxRowsInline1732000000701,
];
