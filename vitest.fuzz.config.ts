// `npm run fuzz`: only the fuzz suites (fuzz/**/*.fuzz.test.ts), 2000 cases per parser
// instead of the 200 the normal test run gives them. DEPASS_FUZZ_N set in the shell still wins.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['fuzz/**/*.fuzz.test.ts'],
    environment: 'node',
    env: { DEPASS_FUZZ_N: process.env['DEPASS_FUZZ_N'] ?? '2000' },
    testTimeout: 600_000,
    hookTimeout: 600_000,
    // Per-case timings are asserted: suites running side by side on 2 cores would only skew them.
    fileParallelism: false,
  },
});
