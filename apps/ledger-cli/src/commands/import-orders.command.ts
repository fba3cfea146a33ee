import { Command } from 'commander';
import type { PaymentService } from '@ledger/domain';
import {
  LegacyImportModule,
  ORDER_TABLE_FIELDS,
  OrderTableImporter,
  type OrderTableField,
  type OrderTableOptions,
  type OrderTableReport,
} from '@ledger/legacy-import';
import { withLedgerContext } from '../cli-context';
import { EXIT, usage } from '../cli-exit';
import type { CliRunner } from '../cli-run';
import { readInputs } from './import-log.command';

interface ImportOrdersOptions {
  dryRun?: boolean;
  placeOnly?: boolean;
  column?: string[];
  service?: string;
  delimiter?: string;
}

const SERVICES: readonly PaymentService[] = ['create_direct_pay_by_user', 'trade_create_by_buyer'];

/** The importer's options from the command line's, or a usage error naming the option. */
export function orderTableOptions(options: ImportOrdersOptions): OrderTableOptions {
  const columns: Partial<Record<OrderTableField, string>> = {};
  for (const mapping of options.column ?? []) {
    const equals = mapping.indexOf('=');
    const field = mapping.slice(0, equals);
    if (
      equals <= 0 ||
      !(ORDER_TABLE_FIELDS as readonly string[]).includes(field) ||
      equals === mapping.length - 1
    ) {
      throw usage(
        `--column ${mapping}: expected FIELD=NAME with FIELD one of ${ORDER_TABLE_FIELDS.join(', ')}`,
      );
    }
    columns[field as OrderTableField] = mapping.slice(equals + 1);
  }
  const service = options.service ?? 'create_direct_pay_by_user';
  if (!(SERVICES as readonly string[]).includes(service)) {
    throw usage(`--service must be one of ${SERVICES.join(', ')}`);
  }
  const delimiter = options.delimiter === '\\t' ? '\t' : options.delimiter;
  if (delimiter !== undefined && (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n')) {
    throw usage('--delimiter must be one character (\\t for a tab), not a quote or newline');
  }
  return {
    dryRun: options.dryRun === true,
    placeOnly: options.placeOnly === true,
    columns,
    service: service as PaymentService,
    ...(delimiter === undefined ? {} : { delimiter }),
  };
}

/** `import-orders`: a PHP integration's order table, placed and its statuses imported. */
export function importOrdersCommand(run: CliRunner): Command {
  return new Command('import-orders')
    .summary("place the orders of a PHP integration's user_order table and import their statuses")
    .description(
      "Places the orders of a CSV export of the PHP integration's user_order table and records the " +
        'statuses its notifications do not explain (docs/operations.md, "Importing a PHP integration’s ' +
        `history"). FIELD is one of ${ORDER_TABLE_FIELDS.join(', ')}. Exit code 2 when rows have errors or ` +
        'disagree with the notifications.',
    )
    .argument('<csv>', 'the exported table')
    .option('--dry-run', 'report what would be placed and imported, write nothing')
    .option('--place-only', 'place the orders, import no status')
    .option(
      '--column <FIELD=NAME>',
      'the column holding FIELD, when not named as the field (repeat for each)',
      (mapping: string, earlier: string[] = []) => [...earlier, mapping],
    )
    .option('--service <service>', SERVICES.join(' or '), 'create_direct_pay_by_user')
    .option('--delimiter <char>', 'the field separator (\\t for a tab); default a comma')
    .action((path: string, options: ImportOrdersOptions, command: Command) =>
      run(command, async (output, globals) => {
        const importOptions = orderTableOptions(options);
        const [file] = await readInputs([path]);
        return withLedgerContext(
          { verbose: globals.verbose === true, imports: [LegacyImportModule] },
          async (app) => {
            // A table the importer cannot read (no column for a field) is an OrderTableError: exit 64.
            const report = await app.get(OrderTableImporter).importTable(file, importOptions);
            output.result(report, describeOrdersImport);
            return report.totals.errors + report.totals.disagreements > 0 ? EXIT.attention : EXIT.ok;
          },
        );
      }),
    );
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
