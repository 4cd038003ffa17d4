import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'webrtc', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
