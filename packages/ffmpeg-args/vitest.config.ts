import { defineProject } from 'vitest/config';

export default defineProject({
  test: { name: 'ffmpeg-args', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
