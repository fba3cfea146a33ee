import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { PaymentService } from '@ledger/domain';
import {
  ORDER_TABLE_FIELDS,
  OrderTableError,
  OrderTableImporter,
  type OrderTableField,
  type OrderTableOptions,
  type OrderTableReport,
} from '@ledger/legacy-import';
import { IMPORT_EXIT, type ImportExit } from './import-exit';
import { openImportContext } from './import-context';

export const IMPORT_ORDERS_USAGE = `  import-orders [--dry-run] [--json] [--place-only] [--column FIELD=NAME…] [--service S]
                [--delimiter C] <csv>
                   place the orders of a CSV export of the PHP integration's user_order table and record
                   the statuses its notifications do not explain; FIELD is one of
                   ${ORDER_TABLE_FIELDS.join(', ')}
`;

type Parsed =
  { ok: true; file: string; json: boolean; options: OrderTableOptions } | { ok: false; message: string };

const SERVICES: readonly PaymentService[] = ['create_direct_pay_by_user', 'trade_create_by_buyer'];

export function parseImportOrdersOptions(args: string[]): Parsed {
  let values;
  let positionals;
  try {
    ({ values, positionals } = parseArgs({
      args,
      strict: true,
      allowPositionals: true,
      options: {
        'dry-run': { type: 'boolean' },
        json: { type: 'boolean' },
        'place-only': { type: 'boolean' },
        column: { type: 'string', multiple: true },
        service: { type: 'string' },
        delimiter: { type: 'string' },
      },
    }));
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  if (positionals.length !== 1) return { ok: false, message: 'import-orders needs exactly one CSV file' };
  const columns: Partial<Record<OrderTableField, string>> = {};
  for (const mapping of values.column ?? []) {
    const equals = mapping.indexOf('=');
    const field = mapping.slice(0, equals);
    if (
      equals <= 0 ||
      !(ORDER_TABLE_FIELDS as readonly string[]).includes(field) ||
      equals === mapping.length - 1
    ) {
      return {
        ok: false,
        message: `--column ${mapping}: expected FIELD=NAME with FIELD one of ${ORDER_TABLE_FIELDS.join(', ')}`,
      };
    }
    columns[field as OrderTableField] = mapping.slice(equals + 1);
  }
  const service = values.service ?? 'create_direct_pay_by_user';
  if (!(SERVICES as readonly string[]).includes(service)) {
    return { ok: false, message: `--service must be one of ${SERVICES.join(', ')}` };
  }
  const delimiter = values.delimiter === '\\t' ? '\t' : values.delimiter;
  if (delimiter !== undefined && (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n')) {
    return {
      ok: false,
      message: '--delimiter must be one character (\\t for a tab), not a quote or newline',
    };
  }
  return {
    ok: true,
    file: positionals[0],
    json: values.json === true,
    options: {
      dryRun: values['dry-run'] === true,
      placeOnly: values['place-only'] === true,
      columns,
      service: service as PaymentService,
      ...(delimiter === undefined ? {} : { delimiter }),
    },
  };
}

export async function importOrders(args: string[]): Promise<ImportExit> {
  const parsed = parseImportOrdersOptions(args);
  if (!parsed.ok) {
    process.stderr.write(`${parsed.message}\n${IMPORT_ORDERS_USAGE}`);
    return IMPORT_EXIT.usage;
  }
  let bytes: Buffer;
  try {
    bytes = await readFile(parsed.file);
  } catch (error) {
    process.stderr.write(`${parsed.file}: ${error instanceof Error ? error.message : String(error)}\n`);
    return IMPORT_EXIT.noInput;
  }
  const context = await openImportContext();
  if (context === undefined) return IMPORT_EXIT.failure;
  try {
    const report = await context.app
      .get(OrderTableImporter)
      .importTable({ path: parsed.file, bytes }, parsed.options);
    process.stdout.write(parsed.json ? `${JSON.stringify(report, null, 2)}\n` : describeOrdersImport(report));
    return report.totals.errors + report.totals.disagreements > 0 ? IMPORT_EXIT.attention : IMPORT_EXIT.ok;
  } catch (error) {
    if (!(error instanceof OrderTableError)) throw error;
    process.stderr.write(`${error.message}\n`);
    return IMPORT_EXIT.usage;
  } finally {
    await context.close();
  }
}

export function describeOrdersImport(report: OrderTableReport): string {
  const lines: string[] = [];
  lines.push(
    `import-orders ${report.file} (${report.charset})` +
      (report.dryRun ? ' (dry run: nothing written)' : '') +
      (report.placeOnly ? ' (placement only)' : ''),
  );
  lines.push(
    `  columns: ${Object.entries(report.columns)
      .map(([field, name]) => `${field}=${name ?? '(none)'}`)
      .join(', ')}`,
    '',
    'orders:',
  );
  for (const order of report.orders) {
    if (order.placement === 'error') {
      lines.push(`  line ${order.line} ${order.outTradeNo}: error: ${order.error ?? ''}`);
      continue;
    }
    const status =
      order.status === undefined || order.status === 'skipped'
        ? ''
        : `; table ${order.statusCode} ${order.tableStatus}, notifications ${order.explainedStatus}: ${order.status.replace('_', ' ')}`;
    lines.push(`  ${order.outTradeNo}: ${order.placement.replace('_', ' ')}${status}`);
    for (const disagreement of order.disagreements) lines.push(`    disagrees: ${disagreement}`);
  }
  const t = report.totals;
  lines.push(
    '',
    `totals: ${t.rows} rows; ${t.placed} ${report.dryRun ? 'to place' : 'placed'}, ${t.alreadyPlaced} placed before; ` +
      `${t.explained} statuses explained by notifications, ${t.statusesImported} ${report.dryRun ? 'to import' : 'imported'}, ` +
      `${t.alreadyImported} imported before; ${t.disagreements} orders with disagreements; ${t.errors} errors`,
  );
  return `${lines.join('\n')}\n`;
}
