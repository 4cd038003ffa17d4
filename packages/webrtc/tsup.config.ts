import { defineConfig } from 'tsup';

// Entry points: the engine, `@dragon/webrtc/werift` (helpers for werift peers of your own), and the
// data-plane worker the engine starts (not an export: FanoutPlane finds it beside itself).
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    werift: 'src/werift/index.ts',
    'fanout-worker': 'src/fanout/shard-worker.ts',
  },
  format: ['esm'],
  // `@internal` members (the plane's handles between source, peer and shard) stay out of the types.
  dts: { compilerOptions: { stripInternal: true } },
  clean: true,
  sourcemap: true,
  target: 'node22',
});
