import { defineProject } from 'vitest/config';

// End-to-end tests start the built server, FFmpeg and Chromium: generous timeouts, no timing assertions.
export default defineProject({
  test: {
    name: 'core',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
