// Whether dist/ was built from the sources as they are now, so that `npm start` (scripts/start.js) skips
// `nest build` when nothing changed. A build compiles every app (tsconfig.build.json includes apps/*/src
// and libs/*/src) after emptying dist/ (nest-cli.json, deleteOutDir), so one fingerprint, kept in dist/,
// covers them all and goes away with any other build.
'use strict';
const { createHash } = require('node:crypto');
const { existsSync, readdirSync, readFileSync, writeFileSync } = require('node:fs');
const { join, relative, sep } = require('node:path');

/** Directories whose files are the sources, and the files outside them that change a build's output. */
const SOURCE_DIRECTORIES = ['apps', 'libs'];
const BUILD_FILES = ['tsconfig.json', 'tsconfig.build.json', 'nest-cli.json', 'package-lock.json'];
/** Test files: never compiled into dist/, so editing one needs no build. */
const TEST_FILE = /\.(spec|int-spec|e2e-spec)\.ts$/;

const FINGERPRINT_FILE = join('dist', '.sources-fingerprint');

function sourceFiles(root) {
  const files = [];
  const walk = (directory) => {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && !TEST_FILE.test(entry.name)) files.push(path);
    }
  };
  for (const directory of SOURCE_DIRECTORIES) {
    if (existsSync(join(root, directory))) walk(join(root, directory));
  }
  for (const file of BUILD_FILES) {
    if (existsSync(join(root, file))) files.push(join(root, file));
  }
  return files.map((file) => relative(root, file).split(sep).join('/')).sort();
}

/**
 * A digest of every source file's path and content: a file added, removed, renamed or edited changes it;
 * a file only touched (a checkout that restores the same bytes) does not.
 */
function sourcesFingerprint(root) {
  const hash = createHash('sha256');
  for (const file of sourceFiles(root)) {
    hash.update(`${file}\0`);
    hash.update(
      createHash('sha256')
        .update(readFileSync(join(root, file)))
        .digest(),
    );
  }
  return hash.digest('hex');
}

/**
 * Whether `entry` (e.g. dist/apps/ledger/src/main.js) is there and was built from sources whose fingerprint
 * is `fingerprint`; `reason` says why not, for the terminal.
 */
function buildFreshness(root, entry, fingerprint) {
  if (!existsSync(join(root, entry))) return { fresh: false, reason: `no build of ${entry} yet` };
  let recorded;
  try {
    recorded = readFileSync(join(root, FINGERPRINT_FILE), 'utf8').trim();
  } catch {
    return { fresh: false, reason: 'dist/ was built another way' };
  }
  if (recorded !== fingerprint) return { fresh: false, reason: 'the sources changed since the last build' };
  return { fresh: true };
}

/** Records that dist/ now holds the build of the sources whose fingerprint was taken before it began. */
function recordBuild(root, fingerprint) {
  writeFileSync(join(root, FINGERPRINT_FILE), `${fingerprint}\n`);
}

module.exports = { buildFreshness, recordBuild, sourcesFingerprint };
