import { defineProject } from 'vitest/config';

// The repository's own checks live here too (test layout, packing every publishable package).
export default defineProject({
  test: {
    name: 'test-helpers',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 300_000,
  },
});
