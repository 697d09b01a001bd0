// Lint: typescript-eslint's type-aware recommended rules over every TypeScript file the build compiles.
// Formatting is Prettier's job (npm run lint runs both).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The folder boundaries of docs/ARCHITECTURE.md ("What each folder may import"): what a folder must not
// import, with the reason an engineer reads when the rule fires.
const ALL_FOLDERS = [
  'admin',
  'alloc',
  'cli',
  'codec',
  'config',
  'control',
  'ddns',
  'dns',
  'failover',
  'io',
  'log',
  'metrics',
  'naming',
  'pair',
  'server',
  'store',
  'util',
];
const only = (folder, allowed) => ({
  files: [`src/${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        paths: [
          ...(folder === 'store' ? [] : [{ name: 'better-sqlite3', message: 'only src/store touches SQLite' }]),
          ...(folder === 'io'
            ? []
            : ['dgram', 'node:dgram', 'net', 'node:net', 'http', 'node:http', 'https', 'node:https'].map((name) => ({
                name,
                message: 'only src/io touches sockets',
              }))),
        ],
        patterns: ALL_FOLDERS.filter((f) => f !== folder && !allowed.includes(f)).map((f) => ({
          group: [`../${f}`, `../${f}/*`, `../../${f}`, `../../${f}/*`],
          message: `src/${folder} may import only ${allowed.length ? allowed.join(', ') : 'nothing of ours'} (docs/ARCHITECTURE.md)`,
        })),
      },
    ],
  },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'build/**', 'bench/out/**', 'test/artifacts/**', '*.mjs', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }],
        },
      ],
    },
  },
  only('util', []),
  only('codec', []),
  only('log', []),
  only('store', []),
  only('dns', ['codec']),
  only('config', ['codec', 'dns', 'util']),
  only('failover', ['util']),
  only('alloc', ['config', 'store', 'util']),
  only('naming', ['alloc', 'config', 'store', 'util']),
  only('io', ['config', 'failover', 'log', 'util']),
  only('pair', ['alloc', 'failover', 'log', 'store', 'util']),
  only('admin', ['alloc', 'codec', 'config', 'dns', 'store', 'util']),
  only('ddns', ['alloc', 'config', 'dns', 'io', 'log', 'naming', 'store', 'util']),
  only('metrics', ['alloc', 'ddns', 'failover', 'io', 'pair', 'server', 'store', 'log']),
  only('control', ['admin', 'alloc', 'config', 'ddns', 'io', 'log', 'metrics', 'pair', 'server', 'store', 'util']),
  only('server', ['admin', 'alloc', 'codec', 'config', 'control', 'ddns', 'failover', 'io', 'log', 'naming', 'pair', 'store', 'util']),
  only('cli', ALL_FOLDERS),
  {
    // Lease records change only through the lease owner (src/alloc/lease-owner.ts), which keeps the
    // pools in step; reads through store.leases are free. Tests may write their fixtures directly.
    files: ['src/**/*.ts'],
    ignores: ['src/store/**', 'src/alloc/lease-owner.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "CallExpression[callee.property.name=/^(put|delete|expireDue|setState)$/][callee.object.property.name='leases'][callee.object.object.type!='ThisExpression']",
          message: 'lease records change only through LeaseOwner (src/alloc/lease-owner.ts), so the pools stay in step',
        },
      ],
    },
  },
);
