import type { ProcessManager } from '@dragon/restream';
import type { Logger } from 'pino';

export const demoProcessId = 'demo';

/** A test pattern with a tone, sent to WebRTC: what a newcomer sees at `/player/demo`. */
export async function ensureDemoProcess(manager: ProcessManager, logger: Logger): Promise<void> {
  if (manager.has(demoProcessId)) return;
  await manager.add({
    id: demoProcessId,
    reference: 'demo',
    input: [
      {
        id: 'testpattern',
        address: 'testsrc2=size=1280x720:rate=30[out0];sine=frequency=440:beep_factor=4[out1]',
        options: ['-re', '-f', 'lavfi'],
      },
    ],
    output: [],
    options: ['-loglevel', 'info'],
    autostart: true,
    reconnect: true,
    reconnect_delay_seconds: 2,
    webrtc: { enabled: true, force_transcode: true },
  });
  logger.info({ processId: demoProcessId }, 'demo process created: open /player/demo');
}
