#!/usr/bin/env node
// `npm start`, `npm run sandbox`, `npm run cli`, `npm run migrate`: builds the apps only when their sources
// changed since the last build (scripts/build.js), then runs one of them in this process with the
// arguments that follow its name, e.g. `node scripts/start.js ledger-cli migrate`.
'use strict';
const { buildIfChanged } = require('./build');

const [project, ...args] = process.argv.slice(2);
const entry = buildIfChanged(project);
// As `node <entry> <arguments>` would run it: the app reads its arguments from process.argv, and its exit
// code and the signals it receives are this process's own.
process.argv = [process.argv[0], entry, ...args];
require(entry);
