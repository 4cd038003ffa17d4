import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'log-throttle', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
