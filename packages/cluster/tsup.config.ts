import { defineConfig } from 'tsup';

// Two entries: `schemas` carries no Redis client, for apps that describe the API without a cluster.
export default defineConfig({
  entry: { index: 'src/index.ts', schemas: 'src/schemas.ts' },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node22',
});
