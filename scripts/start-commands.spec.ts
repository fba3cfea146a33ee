import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The ledger's two start commands run it with the same Node flags (docs/operations.md, "Node's young
// generation"): `npm start` and the Dockerfile's CMD, which `docker compose up` builds.
const ROOT = join(__dirname, '..');

const nodeFlags = (words: readonly string[]) => words.filter((word) => word.startsWith('--'));

describe("the ledger's start commands", () => {
  const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const npmStart = packageJson.scripts.start.split(' ');
  const cmdLine = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('CMD '))
    .at(-1)!;
  const dockerCmd = JSON.parse(cmdLine.slice('CMD '.length)) as string[];

  it('start the ledger with 64 MB semi-spaces', () => {
    expect(npmStart.slice(0, 2)).toEqual(['node', '--max-semi-space-size=64']);
    expect(npmStart.at(-1)).toBe('ledger');
    expect(dockerCmd.at(-1)).toBe('dist/apps/ledger/src/main.js');
  });

  it('pass the same Node flags', () => {
    expect(nodeFlags(dockerCmd)).toEqual(nodeFlags(npmStart));
  });
});
