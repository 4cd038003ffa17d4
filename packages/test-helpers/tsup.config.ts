import { defineConfig } from 'tsup';

// Entries apart so that a test needing only `waitFor` does not load werift or playwright.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    chromium: 'src/chromium.ts',
    werift: 'src/werift.ts',
    server: 'src/server.ts',
  },
  format: ['esm'],
  dts: true,
  clean: true,
  sourcemap: true,
  target: 'node22',
});
