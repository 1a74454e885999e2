import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // A test file that ran nothing is a failure, never a pass.
    passWithNoTests: false,
    pool: 'forks',
  },
});
