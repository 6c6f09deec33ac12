// Lint rules that keep the house's shape: data flows one way (files -> model reader ->
// worker/engine -> results -> store -> views), so each folder may import only from the folders
// upstream of it, and product code never imports tooling. Plus typescript-eslint's recommended
// rules and React's hook rules for the views. `npm run lint` runs it; `npm test` runs lint first.

import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** A folder as import patterns: its index ('../state') and anything in it ('../state/store'). */
const folder = (...names) => names.flatMap((n) => [`**/${n}`, `**/${n}/**`]);
const TOOLING = folder('e2e', 'bench', 'fuzz', 'eval', 'scripts', 'gpu-check');
/** Tests and their helpers may reach across layers (a GPU-vs-reference test must), never into tooling. */
const TESTS = ['**/*.test.ts', '**/testing/**'];
const VIEWS = [...folder('ui', 'state'), 'react', 'react-dom', 'react-dom/*', 'd3', 'd3-*', 'zustand'];

/** A no-restricted-imports rule forbidding these module groups, with the reason. */
const forbid = (group, message) => ['error', { patterns: [{ group, message }] }];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'build/**', 'test-results/**', 'bench/reports/**', 'reports/**', 'scripts/reference/.venv/**', '**/*.py'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Imports carry no file suffix: one convention across the project.
      'no-restricted-syntax': [
        'error',
        { selector: 'ImportDeclaration[source.value=/^\\.{1,2}\\/.*\\.tsx?$/]', message: 'import without the .ts/.tsx suffix (the project convention)' },
      ],
    },
  },
  {
    files: ['src/ui/**/*.{ts,tsx}'],
    ignores: TESTS,
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'no-restricted-imports': forbid([...folder('gpu'), 'webgpu', ...TOOLING], 'views know nothing of WebGPU or of the tooling'),
    },
  },
  {
    files: ['src/model/**/*.ts'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': forbid(
        [...folder('depass', 'gpu', 'worker', 'share', 'cli'), 'webgpu', ...VIEWS, ...TOOLING],
        'src/model reads checkpoints; it knows nothing of the engine, the app or the views',
      ),
    },
  },
  {
    files: ['src/depass/**/*.ts'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': forbid(
        [...folder('gpu', 'worker', 'share', 'cli'), 'webgpu', ...VIEWS, ...TOOLING],
        'the method is backend-independent and knows nothing of the app or the views',
      ),
    },
  },
  {
    files: ['src/gpu/**/*.ts'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': forbid([...folder('worker', 'share', 'cli'), ...VIEWS, ...TOOLING], 'the engine knows nothing of workers, the app or the views'),
    },
  },
  {
    files: ['src/worker/**/*.ts'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': forbid([...folder('share', 'cli'), ...VIEWS, ...TOOLING], 'the worker orchestrates the engine; it knows nothing of the views'),
    },
  },
  {
    files: ['src/hub/**/*.ts'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': forbid(
        [...folder('depass', 'gpu', 'worker', 'cli'), 'webgpu', ...VIEWS, ...TOOLING],
        'the Hub client fetches model files; it knows nothing of the engine, the store or the views',
      ),
    },
  },
  {
    files: ['src/share/**/*.ts'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': forbid(
        [...folder('state', 'ui', 'gpu'), 'react', 'react-dom', ...TOOLING],
        'links and the model shelf know nothing of the store or the views',
      ),
    },
  },
  {
    files: ['src/state/**/*.ts'],
    ignores: TESTS,
    rules: {
      'no-restricted-imports': forbid(
        [...folder('ui', 'gpu'), 'webgpu', 'react', 'react-dom', ...TOOLING],
        'the store knows nothing of the views or of WebGPU',
      ),
    },
  },
  {
    files: ['src/cli/**/*.ts', 'src/node/**/*.ts'],
    ignores: TESTS,
    rules: { 'no-restricted-imports': forbid([...VIEWS, ...TOOLING], 'command-line and Node code knows nothing of the views or the tooling') },
  },
  {
    files: ['src/**/*.test.ts', 'src/**/testing/**/*.ts'],
    rules: { 'no-restricted-imports': forbid(TOOLING, 'tests in src test the product; tooling lives outside it') },
  },
);
