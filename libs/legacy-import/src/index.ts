// The import of a PHP integration's history: its notification logs and its order table
// (docs/operations.md, "Importing a PHP integration's history").
export { LegacyImportModule } from './legacy-import.module';
export {
  LogImporter,
  IMPORTED_RESULTS,
  type ImportedResult,
  type ImportedNotification,
  type LoggedOrder,
  type LogImportReport,
} from './log-importer';
export {
  OrderTableImporter,
  OrderTableError,
  ORDER_TABLE_FIELDS,
  DEFAULT_ORDER_COLUMNS,
  type OrderTableField,
  type OrderTableOptions,
  type ImportedOrder,
  type OrderTableReport,
} from './order-table-importer';
export { readLogFile, detectLogCharset, type LogEntry, type LogFile } from './log-file';
export {
  readNotificationText,
  type NotificationFormat,
  type NotificationCandidate,
  type NotificationTextReading,
} from './notification-text';
export { parseCsv, CsvError, type CsvTable } from './csv';
export {
  createLinkstring,
  createLinkstringUrlencode,
  phpUrlencode,
  printR,
  varExport,
  jsonEncode,
  logResult,
} from './php-kit-output';
