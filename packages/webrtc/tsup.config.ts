import { defineConfig } from 'tsup';

// Two entry points: the engine, and `@dragon/webrtc/werift` (helpers for werift peers of your own).
export default defineConfig({
  entry: { index: 'src/index.ts', werift: 'src/werift/index.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node22',
});
