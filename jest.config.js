// Three tiers (STYLE habit 8): pure unit tests next to the code, SQL integration tests on a real database,
// and end-to-end tests that boot the apps. Type checking is `npm run typecheck`; jest only transpiles.
const fs = require('node:fs');

const swcConfig = JSON.parse(fs.readFileSync(`${__dirname}/.swcrc`, 'utf8'));
delete swcConfig.$schema;

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': ['@swc/jest', { ...swcConfig, swcrc: false }],
    // NestJS 12 ships ES modules only; jest's module system (unlike Node 20's require) cannot load them as
    // they are, so they are compiled to CommonJS like our own code.
    '^.+\\.m?js$': [
      '@swc/jest',
      {
        swcrc: false,
        jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(@nestjs|@electric-sql|fast-xml-parser|strnum|preact)/)'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: { '^@ledger/(.*)$': '<rootDir>/libs/$1/src/index.ts' },
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
};

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testMatch: ['<rootDir>/{apps,libs}/**/*.spec.ts', '<rootDir>/scripts/**/*.spec.ts'],
    },
    {
      ...common,
      displayName: 'int',
      testMatch: ['<rootDir>/{apps,libs}/**/*.int-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/jest.slow-tests.js'],
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/jest.slow-tests.js'],
    },
  ],
};
