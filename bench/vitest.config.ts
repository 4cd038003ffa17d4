import { defineProject } from 'vitest/config';

// The benchmarks' own deterministic parts (the scale benchmark's receiver); benchmarks themselves
// are run by `pnpm bench`, never by the tests. The receiver addon is compiled on first use.
export default defineProject({
  test: { name: 'bench', include: ['**/*.test.mjs'], testTimeout: 120_000, hookTimeout: 120_000 },
});
