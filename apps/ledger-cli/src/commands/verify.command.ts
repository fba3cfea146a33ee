import { Command } from 'commander';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  checkStreamVersions,
  type ProjectionVerification,
  type StreamVersionCheck,
} from '@ledger/event-store';
import { InboxModule, InboxSignatureAudit, type SignatureAuditReport } from '@ledger/inbox';
import { ProjectionsModule, ProjectionsService } from '@ledger/projections';
import { withLedgerContext } from '../cli-context';
import { EXIT } from '../cli-exit';
import type { CliOutput } from '../cli-output';
import type { CliRunner } from '../cli-run';

/** What `verify` found: each check's report, and the differences in all (exit code 1 when any). */
export interface VerifyReport {
  signatures: SignatureAuditReport;
  streams: StreamVersionCheck;
  projections: ProjectionVerification[];
  differences: number;
}

function projectionDifferences(verification: ProjectionVerification): number {
  const rows = verification.tables.reduce((sum, t) => sum + t.missing + t.extra + t.different, 0);
  return rows + verification.parked.onlyLive.length + verification.parked.onlyFresh.length;
}

export function describeVerify(report: VerifyReport): string {
  const { signatures, streams } = report;
  const lines = [
    `signatures   ${signatures.checked} notifications verified again, ${signatures.verified} genuine, ` +
      `${signatures.skipped} never verified; ${signatures.differenceCount} changed`,
  ];
  for (const d of signatures.differences) {
    lines.push(
      `  inbox ${d.inboxId} (${d.channel}, received ${d.receivedAt}): was ${d.stored} in ${d.storedCharset}, ` +
        `now ${d.now}${d.nowCharset === null ? '' : ` in ${d.nowCharset}`}: ${d.summary}`,
    );
  }
  lines.push(
    `streams      ${streams.streams} streams, ${streams.events} events; ${streams.problemCount} not numbered 1 to their version`,
  );
  for (const p of streams.problems) {
    lines.push(
      `  ${p.streamId}: version ${p.recordedVersion}, ${p.events} events, versions ` +
        `${p.firstVersion ?? '-'} to ${p.lastVersion ?? '-'}`,
    );
  }
  for (const verification of report.projections) {
    const differences = projectionDifferences(verification);
    lines.push(
      `projection   ${verification.projection}: ${differences === 0 ? 'equal to' : `${differences} differences from`} ` +
        `a fresh fold of ${verification.events} events, at position ${verification.checkpoint.position}`,
    );
    for (const table of verification.tables) {
      if (table.missing + table.extra + table.different === 0) continue;
      lines.push(
        `  ${table.table}: ${table.rows} rows; ${table.missing} missing, ${table.extra} extra, ${table.different} different`,
      );
      for (const sample of table.samples) {
        const key = Object.entries(sample.key)
          .map(([column, value]) => `${column}=${JSON.stringify(value)}`)
          .join(' ');
        const columns = sample.columns
          .map((c) => `${c.column} is ${JSON.stringify(c.live)}, the fold says ${JSON.stringify(c.fresh)}`)
          .join('; ');
        lines.push(`    ${key} ${sample.kind}${columns === '' ? '' : `: ${columns}`}`);
      }
    }
    const { parked } = verification;
    if (parked.onlyLive.length + parked.onlyFresh.length > 0) {
      lines.push(
        `  parked events: ${parked.live} live, ${parked.fresh} in the fold; only live at ${parked.onlyLive.join(', ') || '-'}, ` +
          `only in the fold at ${parked.onlyFresh.join(', ') || '-'}`,
      );
    }
  }
  lines.push(report.differences === 0 ? 'no differences' : `${report.differences} differences`);
  return `${lines.join('\n')}\n`;
}

async function verify(app: { get<T>(type: unknown): T }, output: CliOutput): Promise<VerifyReport> {
  const signatureBar = output.progress('signatures');
  const signatures = await app
    .get<InboxSignatureAudit>(InboxSignatureAudit)
    .audit({ onProgress: (done, total) => signatureBar.update(done, total) });
  signatureBar.stop();

  const streamBar = output.progress('streams');
  const streams = await checkStreamVersions(app.get<DataSource>(getDataSourceToken()), {
    onProgress: (done, total) => streamBar.update(done, total),
  });
  streamBar.stop();

  const bars = new Map<string, ReturnType<CliOutput['progress']>>();
  const projections = await app.get<ProjectionsService>(ProjectionsService).verify(undefined, {
    onProgress: ({ projection, position, headPosition }) => {
      for (const [other, bar] of bars) if (other !== projection) bar.stop();
      const bar = bars.get(projection) ?? output.progress(projection);
      bars.set(projection, bar);
      bar.update(position, headPosition);
    },
  });
  for (const bar of bars.values()) bar.stop();

  const differences =
    signatures.differenceCount +
    streams.problemCount +
    projections.reduce((sum, verification) => sum + projectionDifferences(verification), 0);
  return { signatures, streams, projections, differences };
}

/** `verify`: signatures, stream versions and projections checked against what they should be. */
export function verifyCommand(run: CliRunner): Command {
  return new Command('verify')
    .summary('re-verify stored signatures, stream versions and every projection; exit 1 on differences')
    .description(
      'Verifies every stored notification’s signature again from its raw bytes with the configured keys, in ' +
        'the charset verification chose; checks that every stream’s versions run from 1 without a gap; and ' +
        'compares every projection with a fresh fold of the event store up to its checkpoint, row by row ' +
        '(docs/operations.md, "The CLI"). Writes nothing the ledger reads. Exit code 1 when anything differs.',
    )
    .action((_options: unknown, command: Command) =>
      run(command, (output, globals) =>
        withLedgerContext(
          { verbose: globals.verbose === true, imports: [InboxModule, ProjectionsModule] },
          async (app) => {
            const report = await verify(app, output);
            output.result(report, describeVerify);
            return report.differences > 0 ? EXIT.failure : EXIT.ok;
          },
        ),
      ),
    );
}
