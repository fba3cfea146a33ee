import { accessSync, constants } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

// Debian's chromium, driven by playwright-core (which downloads no browser); `npm run test:e2e` installs it
// first (scripts/ensure-chromium.js). Without it a browser test is skipped and says why.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here, or undefined. */
export function chromiumMissing(): string | undefined {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return undefined;
  } catch {
    return `no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install -y chromium, as npm run test:e2e does) or set CHROMIUM_PATH`;
  }
}

/** `describe` when Chromium is here; otherwise `describe.skip`, with the reason in the title and on stderr. */
export function describeWithChromium(spec: string, title: string, body: () => void): void {
  const missing = chromiumMissing();
  if (missing === undefined) return describe(title, body);
  process.stderr.write(`${spec}: SKIPPED: ${missing}\n`);
  describe.skip(`${title} [skipped: ${missing}]`, body);
}

/** Headless Chromium; this machine has no network beyond loopback, so its background traffic is off. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
