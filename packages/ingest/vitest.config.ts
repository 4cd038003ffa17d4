import { defineProject } from 'vitest/config';

// Property tests replay and mutate thousands of protocol sessions, and the servers run real sockets
// on a busy CI machine: generous timeouts, no timing assertions.
export default defineProject({
  test: {
    name: 'ingest',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
