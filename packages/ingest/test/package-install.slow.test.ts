import { fileURLToPath } from 'node:url';
import { runInstalledPackages } from '@dragon/test-helpers';
import { expect, it } from 'vitest';

// The published package, installed from its tarball into a fresh project (with @dragon/portalloc and
// @dragon/log-throttle, its dependencies, and @dragon/sessions, its usual accounting): both servers start and close there,
// libsrt loaded through the installed koffi.
const packageDir = (name: string) => fileURLToPath(new URL(`../../${name}`, import.meta.url));

it('installs from its tarball and runs the RTMP and SRT servers in a fresh project', async () => {
  const script = `
    import { listenAddressSchema, RtmpServer, SrtServer } from '@dragon/ingest';
    import { SessionCollector } from '@dragon/sessions';
    const logger = { error() {}, warn() {}, info() {}, debug() {} };
    const rtmp = await RtmpServer.start({ address: '127.0.0.1:0' }, new SessionCollector('rtmp'), logger);
    const srt = await SrtServer.start({ address: '127.0.0.1:0' }, new SessionCollector('srt'), logger);
    const answer = {
      rtmpPort: rtmp.port,
      srtPort: srt.port,
      channels: [...rtmp.channels(), ...srt.channels()],
      refusesPort: !listenAddressSchema.safeParse(':99999').success,
    };
    await Promise.all([rtmp.close(), srt.close()]);
    process.stdout.write(JSON.stringify(answer));
  `;

  const stdout = await runInstalledPackages(
    [packageDir('portalloc'), packageDir('log-throttle'), packageDir('sessions'), packageDir('ingest')],
    script,
  );

  const answer = JSON.parse(stdout) as {
    rtmpPort: number;
    srtPort: number;
    channels: string[];
    refusesPort: boolean;
  };
  expect(answer.rtmpPort).toBeGreaterThan(0);
  expect(answer.srtPort).toBeGreaterThan(0);
  expect(answer).toMatchObject({ channels: [], refusesPort: true });
}, 300_000);
