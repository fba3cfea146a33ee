import { mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { buildFreshness, recordBuild, sourcesFingerprint } from './build-freshness';

const ENTRY = 'dist/apps/ledger/src/main.js';

describe('whether npm start must build', () => {
  let root: string;

  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  /** dist/ as a build by scripts/start.js leaves it: the apps, and the fingerprint taken before it. */
  const build = () => {
    const fingerprint = sourcesFingerprint(root);
    rmSync(join(root, 'dist'), { recursive: true, force: true });
    write(ENTRY, 'built');
    recordBuild(root, fingerprint);
  };
  const freshness = () => buildFreshness(root, ENTRY, sourcesFingerprint(root));

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'build-freshness-'));
    write('apps/ledger/src/main.ts', 'main');
    write('libs/domain/src/index.ts', 'domain');
    write('libs/domain/src/order.spec.ts', 'a test');
    write('tsconfig.json', '{}');
    write('tsconfig.build.json', '{}');
    write('nest-cli.json', '{}');
    write('package-lock.json', '{}');
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('builds what was never built, and not again while nothing changed', () => {
    expect(freshness()).toEqual({ fresh: false, reason: `no build of ${ENTRY} yet` });
    build();
    expect(freshness()).toEqual({ fresh: true });
    expect(freshness()).toEqual({ fresh: true });
  });

  it.each([
    ['a source is edited', () => write('libs/domain/src/index.ts', 'domain, edited')],
    ['a source is added', () => write('libs/domain/src/refund.ts', 'new')],
    ['a source is removed', () => rmSync(join(root, 'libs/domain/src/index.ts'))],
    [
      'a source is renamed',
      () => renameSync(join(root, 'apps/ledger/src/main.ts'), join(root, 'apps/ledger/src/start.ts')),
    ],
    ['the build configuration changes', () => write('tsconfig.build.json', '{"exclude":[]}')],
    ['the dependencies change', () => write('package-lock.json', '{"packages":{}}')],
    ['the Nest CLI configuration changes', () => write('nest-cli.json', '{"monorepo":true}')],
  ])('builds again when %s', (_, change) => {
    build();
    change();
    expect(freshness()).toEqual({ fresh: false, reason: 'the sources changed since the last build' });
  });

  it('does not build again for a test edited, or a source saved with the same content', () => {
    build();
    write('libs/domain/src/order.spec.ts', 'a test, edited');
    write('libs/domain/src/index.ts', 'domain');
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(root, 'apps/ledger/src/main.ts'), later, later);
    expect(freshness()).toEqual({ fresh: true });
  });

  it('builds when dist/ was built another way, or the app was deleted from it', () => {
    build();
    rmSync(join(root, 'dist/.sources-fingerprint'));
    expect(freshness()).toEqual({ fresh: false, reason: 'dist/ was built another way' });
    build();
    rmSync(join(root, ENTRY));
    expect(freshness()).toEqual({ fresh: false, reason: `no build of ${ENTRY} yet` });
  });

  it('builds again when a file changed while the last build ran', () => {
    const before = sourcesFingerprint(root);
    write('libs/domain/src/index.ts', 'saved during the build');
    write(ENTRY, 'built');
    recordBuild(root, before);
    expect(freshness().fresh).toBe(false);
  });
});
