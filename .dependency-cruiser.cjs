// The layer rules of STYLE.md, checked in CI: apps → commands → inbox, projections → domain, event-store,
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
      to: { path: '^libs/(domain|alipay-protocol|ingest|inbox|commands|projections|alipay-gateway)/' },
    },
    {
      name: 'inbox-knows-no-commands',
      comment: 'the raw inbox stores and reads notifications; the command path decides on them',
      severity: 'error',
      from: { path: '^libs/inbox/' },
      to: { path: '^libs/(commands|ingest|projections|alipay-gateway)/' },
    },
    {
      name: 'commands-below-the-apps',
      comment: 'the command path knows no projection, no gateway and no worker',
      severity: 'error',
      from: { path: '^libs/commands/', pathNot: '\\.(int-|e2e-)?spec\\.ts$' },
      to: { path: '^libs/(ingest|projections|alipay-gateway)/' },
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
