import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'whip-http', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
