import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'restream', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
