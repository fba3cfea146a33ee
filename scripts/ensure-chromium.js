#!/usr/bin/env node
// Before the end-to-end tests: the browser test drives Debian's Chromium with playwright-core, which never
// downloads a browser of its own. Installs the `chromium` package when it is missing and this process may
// (root, apt-get). Never fails the run: without Chromium the browser test is skipped and says why.
'use strict';
const { accessSync, constants } = require('node:fs');
const { spawnSync } = require('node:child_process');

const executable = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

function present() {
  try {
    accessSync(executable, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function run(command, args) {
  const result = spawnSync(command, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return result.status === 0;
}

function main() {
  if (present()) return;
  const warn = (why) =>
    console.warn(`ensure-chromium: ${executable} is missing and ${why}: the browser test will be skipped`);
  if (process.platform !== 'linux' || spawnSync('apt-get', ['--version']).status !== 0) {
    warn("there is no apt-get to install Debian's chromium with");
    return;
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    warn('installing it needs root (apt-get install -y chromium)');
    return;
  }
  console.log(`ensure-chromium: ${executable} is missing; installing Debian's chromium package`);
  if (!run('apt-get', ['update', '-qq']) || !run('apt-get', ['install', '-y', '-qq', 'chromium'])) {
    warn('apt-get could not install it');
    return;
  }
  if (!present()) warn(`the chromium package did not provide it`);
}

main();
