// The layer rules of STYLE.md, checked in CI: apps → processes → commands → inbox, projections → domain, event-store,
// alipay-gateway, platform; domain → alipay-protocol. The pure libs import neither Nest nor TypeORM.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'pure-libs-stay-pure',
      comment: 'domain and alipay-protocol are pure TypeScript: no framework, no database',
      severity: 'error',
      from: { path: '^libs/(domain|alipay-protocol)/' },
      to: { path: 'node_modules/(@nestjs|typeorm|pg|@electric-sql)/' },
    },
    {
      name: 'protocol-knows-no-domain',
      severity: 'error',
      from: { path: '^libs/alipay-protocol/' },
      to: { path: '^libs/(?!alipay-protocol/)' },
    },
    {
      name: 'domain-depends-only-on-protocol',
      severity: 'error',
      from: { path: '^libs/domain/' },
      to: { path: '^libs/(?!(domain|alipay-protocol)/)' },
    },
    {
      name: 'event-store-knows-envelopes-not-rules',
      severity: 'error',
      from: { path: '^libs/event-store/' },
      to: { path: '^libs/(domain|alipay-protocol|inbox|commands|projections|alipay-gateway)/' },
    },
    {
      name: 'inbox-knows-no-commands',
      comment: 'the raw inbox stores and reads notifications; the command path decides on them',
      severity: 'error',
      from: { path: '^libs/inbox/' },
      to: { path: '^libs/(commands|projections|alipay-gateway)/' },
    },
    {
      name: 'commands-below-the-apps',
      comment: 'the command path knows no projection, no gateway and no worker',
      severity: 'error',
      from: { path: '^libs/commands/', pathNot: '\\.(int-|e2e-)?spec\\.ts$' },
      to: { path: '^libs/(projections|alipay-gateway)/' },
    },
    {
      name: 'processes-are-reached-only-by-apps',
      comment:
        'the process managers sit above the other libs: only the apps (and tests) start them; the test database helpers apply their migrations',
      severity: 'error',
      from: { path: '^libs/(?!processes/|testing/)' },
      to: { path: '^libs/processes/' },
    },
    {
      name: 'processes-build-on-the-write-and-read-sides',
      severity: 'error',
      from: { path: '^libs/processes/' },
      to: {
        path: '^libs/(?!(processes|commands|inbox|projections|event-store|alipay-gateway|alipay-protocol|domain|platform)/)',
        pathNot: '^libs/testing/',
      },
    },
    {
      name: 'platform-is-the-bottom',
      severity: 'error',
      from: { path: '^libs/platform/', pathNot: '\\.(int-|e2e-)?spec\\.ts$' },
      to: { path: '^libs/(?!platform/)' },
    },
    {
      name: 'no-lib-imports-an-app',
      severity: 'error',
      from: { path: '^libs/' },
      to: { path: '^apps/' },
    },
    {
      name: 'no-app-imports-another-app',
      comment: 'an app shares code with another through a lib: a deployed binary carries only its own app',
      severity: 'error',
      from: { path: '^apps/([^/]+)/' },
      to: { path: '^apps/(?!$1/)' },
    },
    {
      name: 'tests-enter-apps-through-their-entry',
      comment:
        'test/ and bench/ build the ledger with createLedgerApp (ledger-app.ts), as main.ts does; besides it, ' +
        'the raw-body capture that bench/ingest measures in isolation',
      severity: 'error',
      from: { path: '^(test|bench)/' },
      to: {
        path: '^apps/',
        pathNot: '^apps/ledger/src/(ledger-app|alipay/raw-body)\\.ts$',
      },
    },
    {
      name: 'sandbox-speaks-only-the-protocol',
      comment:
        "the sandbox is Alipay's side: it shares the protocol and the platform, never the ledger's libs",
      severity: 'error',
      from: { path: '^libs/alipay-sandbox/' },
      to: { path: '^libs/(?!(alipay-sandbox|alipay-protocol|platform)/)' },
    },
    {
      name: 'sandbox-only-in-demo-mode-and-tests',
      comment:
        'the test double reaches the ledger binary only through demo mode (demo-sandbox.ts); no lib and ' +
        'no other app code imports it',
      severity: 'error',
      from: {
        path: '^(apps|libs)/',
        pathNot: '^(libs|apps)/alipay-sandbox/|^apps/ledger/src/demo-sandbox\\.ts$',
      },
      to: { path: '^libs/alipay-sandbox/' },
    },
    {
      name: 'testing-helpers-only-in-tests',
      severity: 'error',
      from: { path: '^(apps|libs)/', pathNot: ['\\.(int-|e2e-)?spec\\.ts$', '^libs/testing/'] },
      to: { path: '^libs/testing/' },
    },
    {
      name: 'libs-through-their-public-face',
      comment: 'another lib is reached through its index (the @ledger/<lib> alias), never a deep path',
      severity: 'error',
      from: { path: '^libs/([^/]+)/' },
      to: { path: '^libs/[^/]+/src/(?!index\\.ts$)', pathNot: '^libs/$1/' },
    },
    {
      name: 'apps-use-public-faces',
      severity: 'error',
      from: { path: '^(apps|test|bench)/' },
      to: { path: '^libs/[^/]+/src/(?!index\\.ts$)' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^dist/|^coverage/)' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
