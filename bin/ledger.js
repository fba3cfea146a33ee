#!/usr/bin/env node
// `npx ledger <command>`: the operator's CLI (docs/operations.md, "The CLI"), built by `npm install` (the
// `prepare` script) into dist/.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const main = join(__dirname, '..', 'dist', 'apps', 'ledger-cli', 'src', 'main.js');
if (!existsSync(main)) {
  process.stderr.write('the CLI is not built: run `npm install` (or `npx nest build ledger-cli`) first\n');
  process.exit(70);
}
require(main);
