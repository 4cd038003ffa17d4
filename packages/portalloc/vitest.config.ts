import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'portalloc', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
