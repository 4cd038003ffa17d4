import { defineProject } from 'vitest/config';

// Invariants under faults: crashes, churn, hostile input. Asserts outcomes, never timings.
export default defineProject({
  test: {
    name: 'reliability',
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    // Each file starts its own servers; running them one at a time keeps 2 cores honest.
    fileParallelism: false,
  },
});
