import type { RunningServer } from './launch-server.js';

/** A JSON request body with its content type, e.g. `server.json('/api/v3/process', jsonBody(config))`. */
export function jsonBody(value: unknown, method = 'POST'): RequestInit {
  return { method, body: JSON.stringify(value), headers: { 'Content-Type': 'application/json' } };
}

/** One sample of a Prometheus metric from `/metrics`, e.g. `metric(server, 'dragon_process_viewers', 'process_id="cam"')`. */
export async function metric(
  server: RunningServer,
  name: string,
  labels: string,
): Promise<number | undefined> {
  const text = await (await server.api('/metrics')).text();
  const line = text.split('\n').find((entry) => entry.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

/** A lavfi test pattern + tone input of `size`, at 25 fps. */
export function testPatternInput(size = '640x360') {
  return {
    id: 'in',
    address: `testsrc2=size=${size}:rate=25[out0];sine=frequency=440[out1]`,
    options: ['-re', '-f', 'lavfi'],
  };
}

/** A lavfi test pattern + tone process with WebRTC on, as a user would create it. */
export function testPatternProcess(id: string, extra: Record<string, unknown> = {}) {
  return {
    id,
    reference: 'e2e',
    input: [testPatternInput()],
    output: [],
    options: [],
    autostart: true,
    reconnect: true,
    reconnect_delay_seconds: 1,
    webrtc: { enabled: true, force_transcode: true },
    ...extra,
  };
}
