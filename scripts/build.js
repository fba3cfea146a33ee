#!/usr/bin/env node
// `nest build <project>` unless dist/ already holds the build of the sources as they are
// (scripts/build-freshness.js): run by `npm install` (prepare) and by scripts/start.js.
'use strict';
const { spawnSync } = require('node:child_process');
const { join } = require('node:path');
const { buildFreshness, recordBuild, sourcesFingerprint } = require('./build-freshness');

const ROOT = join(__dirname, '..');
const ENTRIES = {
  ledger: 'dist/apps/ledger/src/main.js',
  'ledger-cli': 'dist/apps/ledger-cli/src/main.js',
  'alipay-sandbox': 'dist/apps/alipay-sandbox/src/main.js',
};
// EX_USAGE from sysexits.h.
const EXIT_USAGE = 64;

/** Builds when needed; answers the app's entry file, or exits with the build's exit code. */
function buildIfChanged(project) {
  const entry = ENTRIES[project];
  if (entry === undefined) {
    process.stderr.write(
      `usage: node ${process.argv[1]} <${Object.keys(ENTRIES).join('|')}> [arguments...]\n`,
    );
    process.exit(EXIT_USAGE);
  }
  // Taken before the build: a file saved while it runs makes the next start build again.
  const fingerprint = sourcesFingerprint(ROOT);
  const freshness = buildFreshness(ROOT, entry, fingerprint);
  if (!freshness.fresh) {
    process.stderr.write(`nest build ${project} (${freshness.reason})\n`);
    const nest = require.resolve('@nestjs/cli/bin/nest.js', { paths: [ROOT] });
    const build = spawnSync(process.execPath, [nest, 'build', project], { cwd: ROOT, stdio: 'inherit' });
    if (build.status !== 0) process.exit(build.status ?? 1);
    recordBuild(ROOT, fingerprint);
  }
  return join(ROOT, entry);
}

if (require.main === module) buildIfChanged(process.argv[2]);

module.exports = { buildIfChanged };
