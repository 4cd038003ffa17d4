import { defineConfig } from 'vitest/config';

// One run over every package: each package/app is a vitest project with its own config,
// and the reliability suite runs the built server under faults.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'reliability'],
  },
});
