// `npm run lint` (and `npm test`, after tsc): ESLint with typescript-eslint's type-aware rules, the
// types coming from tsconfig.json through the project service. Beyond the recommended sets it insists on
// handled promises (no-floating-promises, no-misused-promises) and no unused code (no-unused-vars covers
// unused imports too), and keeps workflow code inside what Temporal's sandbox offers.
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** fs, fs/promises, path, crypto, child_process, ... as Node 20 names them (node:* prefixed ones come by pattern) */
const NODE_BUILTINS = builtinModules.filter((m) => !m.startsWith('_'));
const SANDBOX = 'does not exist in the workflow sandbox';
// The sandbox seeds Math.random (and uuid4) per run, but the tracing interceptors draw span ids from the
// same stream: a traced worker would make other ids than an untraced one, and histories would not replay.
const RANDOM = 'no randomness in workflow code (the tracing interceptors draw from the same seeded stream): derive ids from the input or the history, or make them in an activity.';

export default defineConfig(
  globalIgnores(['dist/', 'node_modules/', '.tools/', '.data/', 'prisma/generated/', 'bench-results/', 'coverage/', 'web/dist/', 'web/src/generated/']),
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.ts', '**/*.tsx'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // in the recommended set already; spelled out because they are why this config exists
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // a leading underscore marks a parameter or binding kept on purpose (it.each rows, destructured rests)
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // off: an async method that happens not to await implements an async interface on purpose (codecs, gateways, fakes)
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // off in tests only: HTTP response bodies are read as `any` and asserted field by field; the product code keeps them
    files: ['tests/**/*.ts'],
    rules: Object.fromEntries(
      ['no-unsafe-member-access', 'no-unsafe-assignment', 'no-unsafe-argument', 'no-unsafe-call', 'no-unsafe-return', 'no-explicit-any'].map((rule) => [`@typescript-eslint/${rule}`, 'off']),
    ),
  },
  {
    // Workflow code runs in Temporal's V8 sandbox (replayed from history): no Node APIs, no I/O, and
    // only deterministic time and randomness. Date.now() and new Date() are fine there (workflow time).
    // (and what they import that runs inside it: domain/ and the PlaceOrder contract)
    files: ['workflows/**/*.ts', 'scripts/bench/floor-workflows.ts', 'domain/**/*.ts', 'temporal-config/place-order.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            ...NODE_BUILTINS.map((name) => ({ name, allowTypeImports: true, message: `Node's '${name}' ${SANDBOX}: do I/O in an activity.` })),
            { name: '@temporalio/workflow', importNames: ['uuid4'], message: RANDOM },
          ],
          patterns: [
            { group: ['node:*'], allowTypeImports: true, message: `Node built-ins do not exist in the workflow sandbox: do I/O in an activity.` },
            {
              group: ['@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing', '@temporalio/interceptors-opentelemetry'],
              allowTypeImports: true,
              message: 'workflow code imports @temporalio/workflow (and @temporalio/common) only; the others need Node.',
            },
            {
              // the project's own activities/, platform/, prisma/, api/, workers/ (not a workflow's own ./activities proxies)
              regex: '^(\\.\\./)+(activities|platform|prisma|api|workers)(/|$)',
              allowTypeImports: true,
              message: 'workflows reach activities and infrastructure through proxyActivities: import their types only.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['setTimeout', 'clearTimeout'].map((name) => ({ name, message: `use sleep() or condition() from @temporalio/workflow: a raw ${name} ignores CancellationScope.` })),
        ...['setInterval', 'clearInterval', 'setImmediate', 'clearImmediate', 'queueMicrotask'].map((name) => ({ name, message: `${name} ${SANDBOX}: use sleep() in a loop.` })),
        { name: 'process', message: `process ${SANDBOX}: pass configuration in the workflow input.` },
        ...['require', 'module', '__dirname', '__filename'].map((name) => ({ name, message: `${name} ${SANDBOX}: use a static import.` })),
        { name: 'crypto', message: `crypto ${SANDBOX}. ${RANDOM}` },
        ...['Buffer', 'fetch', 'performance'].map((name) => ({ name, message: `${name} ${SANDBOX}.` })),
        ...['WeakRef', 'FinalizationRegistry'].map((name) => ({ name, message: `${name} throws in the sandbox: garbage collection is not deterministic.` })),
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: RANDOM },
      ],
    },
  },
);
