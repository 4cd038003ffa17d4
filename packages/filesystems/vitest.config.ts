import { defineProject } from 'vitest/config';

// The slow tests run FFmpeg on a busy machine: generous timeouts, no timing assertions.
export default defineProject({
  test: {
    name: 'filesystems',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
