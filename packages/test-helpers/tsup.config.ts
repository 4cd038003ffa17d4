import { defineConfig } from 'tsup';

// Several entries so that a test needing only `waitFor` does not load werift, playwright or Redis.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    chromium: 'src/chromium.ts',
    adaptive: 'src/adaptive.ts',
    werift: 'src/werift.ts',
    server: 'src/server.ts',
    redis: 'src/redis.ts',
    'frame-stamp': 'src/frame-stamp.ts',
  },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node22',
});
