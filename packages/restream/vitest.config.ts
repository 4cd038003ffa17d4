import { defineProject } from 'vitest/config';

// Tests run real and fake FFmpegs on a busy CI machine: generous timeouts, no timing assertions.
export default defineProject({
  test: {
    name: 'restream',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
  },
});
