import { defineProject } from 'vitest/config';

// The tests in test/ start a real redis-server (scripts/bootstrap.sh --with-redis provides it).
export default defineProject({
  test: {
    name: 'cluster',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
