import { Readable } from 'node:stream';
import { StreamableFile } from '@nestjs/common';
import type { LedgerLogger } from '@ledger/platform';
import {
  exportContentType,
  exportFileName,
  type AccountingExports,
  type ExportRequest,
  type ProjectionsService,
} from '@ledger/projections';
import { readYourWrites } from './read-your-writes';

/** What a download of an export reads and where it logs. */
export interface ExportDownloadServices {
  exports: AccountingExports;
  projections: ProjectionsService;
  logger: LedgerLogger;
}

/**
 * An export for accounting as a file to download (docs/operations.md, "Exports"), for the admin API and the
 * console alike: once the projections show every write acknowledged before, its rows are streamed as the
 * client reads them (Nest pipes the file, so a slow client holds the next page back), with its Content-Type
 * and a file name. The request is checked before: a bad one is never a cut stream.
 */
export async function exportDownload(
  { exports, projections, logger }: ExportDownloadServices,
  request: ExportRequest,
  logContext: string,
): Promise<StreamableFile> {
  await readYourWrites(projections, logger, `the ${request.kind} export`);
  const file = new StreamableFile(Readable.from(exports.stream(request)), {
    type: exportContentType(request.format),
    disposition: `attachment; filename="${exportFileName(request)}"`,
  });
  return file
    .setErrorLogger((error) => {
      logger.error(`the ${request.kind} export stopped: ${error.message}`, error.stack, logContext);
    })
    .setErrorHandler((_error, response) => {
      if (response.destroyed) return;
      if (!response.headersSent) {
        response.statusCode = 500;
        response.send('the export failed; see the ledger log');
        return;
      }
      // The first rows are out: the connection is cut rather than the response ended, so that the client
      // sees a failed download, never a file that looks whole.
      if (response.destroy !== undefined) response.destroy();
      else response.end();
    });
}
