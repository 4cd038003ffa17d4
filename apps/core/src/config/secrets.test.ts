import { describe, expect, it } from 'vitest';
import { configSchema } from './config-schema.js';
import { redacted, redactSecrets, restoreSecrets } from './secrets.js';

describe('the secrets of a config', () => {
  it('never shows the WHIP tokens, server-wide or per stream, and keeps them when sent back redacted', () => {
    const stored = configSchema.parse({
      whip: { enable: true, token: 'server-wide-token', streams: { cam: { token: 'cam-token' } } },
    });
    const shown = redactSecrets(stored);
    expect(shown.whip.token).toBe(redacted);
    expect(shown.whip.streams.cam?.token).toBe(redacted);
    expect(JSON.stringify(shown)).not.toContain('cam-token');

    const sentBack = structuredClone(shown) as unknown as Record<string, unknown>;
    restoreSecrets(sentBack, stored);
    expect((sentBack as unknown as typeof stored).whip.token).toBe('server-wide-token');
    expect((sentBack as unknown as typeof stored).whip.streams.cam?.token).toBe('cam-token');
  });
});
