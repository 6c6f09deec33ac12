import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: [
      'src/**/*.test.ts',
      'scripts/**/*.test.ts',
      'eval/**/*.test.ts',
      'fuzz/**/*.test.ts',
      'bench/**/*.test.ts',
      'gpu-check/**/*.test.ts',
      'examples/**/*.test.ts',
    ],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // GPU tests share one software adapter; running files in parallel only thrashes 2 cores.
    fileParallelism: false,
  },
});
