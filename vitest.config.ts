import { defineConfig } from 'vitest/config';
import coreProject from './apps/core/vitest.config.js';

// One run over every package: each package/app is a vitest project with its own config,
// and the reliability suite runs the built server under faults.
export default defineConfig({
  test: {
    projects: [
      'packages/*',
      'apps/*',
      'reliability',
      'bench',
      // The server end to end once more with the JavaScript data plane (the fallback where the
      // native addon cannot be built or loaded): every other test runs the native one.
      {
        // Core's settings, not `extends` (which would add these files to core's whole `include`).
        test: {
          ...coreProject.test,
          name: 'core-js-plane',
          root: './apps/core',
          include: ['test/server.slow.test.ts', 'test/viewer-limits.slow.test.ts'],
          env: { DRAGON_FANOUT_ENGINE: 'js' },
        },
      },
    ],
  },
});
