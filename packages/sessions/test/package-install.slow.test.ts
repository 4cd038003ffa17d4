import { fileURLToPath } from 'node:url';
import { runInstalledPackages } from '@dragon/test-helpers';
import { expect, it } from 'vitest';

// The published package, installed from its tarball into a fresh project, running its README's example
// (pack and install take minutes on a busy machine: the test's own timeout).
const packageDir = fileURLToPath(new URL('..', import.meta.url));

it("installs from its tarball and runs the README's example in a fresh project", async () => {
  const script = `
    import { SessionRegistry, SessionOptionsError, SessionCollector } from '@dragon/sessions';
    const registry = new SessionRegistry({
      collector: { ipIgnoreList: [], sessionTimeoutSec: 30 },
      webrtcSessions: () => [{ processId: 'cam', remote: '203.0.113.7:50000', createdAt: new Date(), bytesSent: 4096 }],
    });
    const rtmp = registry.collector('rtmp');
    rtmp.registerAndActivate('/live/cam', 'cam', 'publish:/live/cam', '198.51.100.2:40000');
    rtmp.ingress('/live/cam', 188 * 7);
    registry.tick();
    let refused = '';
    try { new SessionCollector('srt', { ipIgnoreList: ['nonsense'] }); } catch (error) {
      refused = error instanceof SessionOptionsError ? error.code : String(error);
    }
    const answer = {
      rtmp: registry.summary('rtmp').active.list.map((session) => [session.local, session.bytes_rx]),
      webrtc: registry.summary('webrtc').active.sessions,
      refused,
    };
    registry.close();
    process.stdout.write(JSON.stringify(answer));
  `;

  const stdout = await runInstalledPackages([packageDir], script);

  expect(JSON.parse(stdout)).toEqual({
    rtmp: [['publish:/live/cam', 1316]],
    webrtc: 1,
    refused: 'SESSION_OPTIONS',
  });
}, 300_000);
