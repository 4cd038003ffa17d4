import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'whep-http', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
