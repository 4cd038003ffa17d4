// The encode both servers are fed: one FFmpeg encoding a test pattern to MPEG-TS over UDP, and the
// copy-mode FFmpeg that turns it into RTP for Janus exactly as the server's own FFmpeg does for it.
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { tiedToParent } from '@dragon/test-helpers/server';

/** A UDP port free on loopback right now (the OS picks it; the caller binds it soon after). */
export async function freeUdpPort() {
  const socket = createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise((resolve) => socket.close(resolve));
  return port;
}

export async function freeTcpPort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * 640×360 at 25 fps, H.264 constrained baseline (no B-frames), a keyframe every 2 s, ~1 Mbit/s, and
 * Opus. Temporal noise keeps the picture hard to compress, so the encoder spends its bitrate as a
 * camera would instead of undershooting on a static pattern.
 */
export function encoderArgs(port, alsoPort) {
  return [
    '-hide_banner',
    '-nostdin',
    '-loglevel',
    'error',
    '-re',
    '-f',
    'lavfi',
    '-i',
    'testsrc2=size=640x360:rate=25',
    '-re',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-filter:v',
    'noise=alls=10:allf=t',
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-tune',
    'zerolatency',
    '-profile:v',
    'baseline',
    '-pix_fmt',
    'yuv420p',
    '-bf',
    '0',
    '-g',
    '50',
    '-keyint_min',
    '50',
    '-sc_threshold',
    '0',
    '-b:v',
    '1000k',
    '-maxrate',
    '1000k',
    '-bufsize',
    '1000k',
    '-c:a',
    'libopus',
    '-b:a',
    '64k',
    '-ac',
    '2',
    '-ar',
    '48000',
    // A second copy of the same packets for a feed of another side, which then needs no handover
    // of the first port between two FFmpegs; a copy nobody reads is dropped by the kernel.
    ...(alsoPort === undefined
      ? ['-f', 'mpegts', `udp://127.0.0.1:${port}?pkt_size=1316`]
      : [
          ...['-map', '0:v', '-map', '1:a', '-f', 'tee'],
          [port, alsoPort].map((p) => `[f=mpegts:onfail=ignore]udp://127.0.0.1:${p}?pkt_size=1316`).join('|'),
        ]),
  ];
}

/** Starts `ffmpeg args` pinned to `core`; its pid is the FFmpeg's own (taskset execs it). */
export function spawnPinned(core, command, args, options = {}) {
  // Tied to this process: a benchmark that dies (the server would not start) leaves no encoder
  // running for ever.
  const [tied, tiedArgs] = tiedToParent('taskset', ['-c', String(core), command, ...args]);
  const child = spawn(tied, tiedArgs, {
    stdio: ['ignore', 'ignore', 'pipe'],
    ...options,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  return {
    child,
    pid: child.pid,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * The server's own FFmpeg command line with its RTP outputs pointed at other ports: the Janus side
 * then gets the same packets (same muxer, same options, same progress reporting) from the same
 * encode. `ports` maps each of the server's RTP ports to the replacement.
 */
export function retargetedCommand(argv, ports) {
  return argv.map((arg) => {
    const match = /^udp:\/\/127\.0\.0\.1:(\d+)(\?.*)?$/.exec(arg);
    const port = match && ports.get(Number(match[1]));
    return port ? `udp://127.0.0.1:${port}${match[2] ?? ''}` : arg;
  });
}

/** The RTP output ports in an FFmpeg command line made by @dragon/ffmpeg-args, by track. */
export function rtpOutputPorts(argv) {
  // Each WebRTC leg is `-map <stream> -c:v|-c:a … -f rtp udp://127.0.0.1:<port>?pkt_size=…`; the
  // stream specifier depends on the media plan (`0:v:0`, `0:1` …), the codec option names the kind.
  const ports = {};
  let kind;
  for (const arg of argv) {
    if (arg === '-map') kind = undefined;
    else if (arg === '-c:v' || arg === '-codec:v') kind ??= 'video';
    else if (arg === '-c:a' || arg === '-codec:a') kind ??= 'audio';
    const match = /^udp:\/\/127\.0\.0\.1:(\d+)\?pkt_size=/.exec(arg);
    if (match && kind) ports[kind] = Number(match[1]);
  }
  return ports;
}
