#!/usr/bin/env node
// Runs a command against the real PostgreSQL server on 127.0.0.1:5432, starting the local cluster if it is
// down. The suites create their own databases (names containing "test") and drop them afterwards.
'use strict';
const { execSync, spawnSync } = require('node:child_process');
const net = require('node:net');

const HOST = process.env.PGHOST_TEST ?? '127.0.0.1';
const PORT = Number(process.env.PGPORT_TEST ?? 5432);

function listening() {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port: PORT });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

async function ensureServer() {
  if (await listening()) return;
  console.log(`PostgreSQL is not listening on ${HOST}:${PORT}; starting the local cluster`);
  execSync('pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start', { stdio: 'inherit' });
  for (let attempt = 0; attempt < 60; attempt++) {
    if (await listening()) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`PostgreSQL did not come up on ${HOST}:${PORT}`);
}

async function main() {
  const [command, ...args] = process.argv.slice(2);
  if (!command) throw new Error('usage: with-test-postgres.js <command> [args...]');
  await ensureServer();
  const env = {
    ...process.env,
    TEST_DATABASE: 'postgres',
    TEST_DATABASE_ADMIN_URL:
      process.env.TEST_DATABASE_ADMIN_URL ?? `postgres://postgres@${HOST}:${PORT}/postgres`,
  };
  const result = spawnSync(command, args, { stdio: 'inherit', env, shell: false });
  process.exit(result.status ?? 1);
}

main().catch((error) => {
  console.error(error.message);
  process.exit(1);
});
