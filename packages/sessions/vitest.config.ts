import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'sessions', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
