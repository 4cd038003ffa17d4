import { defineProject } from 'vitest/config';

// Integration tests run real werift peers (and Chromium in *.slow.test.ts): generous timeouts.
export default defineProject({
  test: { name: 'webrtc', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 60_000 },
});
