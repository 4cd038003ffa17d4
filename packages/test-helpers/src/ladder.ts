/** One rung of a test ladder: a scaled encode sent to its own RTP port. */
export interface LadderRung {
  port: number;
  height: number;
  bitrateKbit: number;
}

/**
 * FFmpeg arguments for a test pattern with renditions, the way the media plan makes them: one
 * FFmpeg, one decode, the top (720p, `topKbit`, keyframe every second) and each rung scaled and
 * encoded (keyframe every 0.5 s), H.264 constrained baseline on payload type 96, and Opus (a sine)
 * on 111.
 */
export function ladderFfmpegArgs(options: {
  topPort: number;
  topKbit: number;
  rungs: readonly LadderRung[];
  audioPort: number;
}): string[] {
  const encode = (kbit: number, gop: number) => [
    ...['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-profile:v', 'baseline'],
    ...['-pix_fmt', 'yuv420p', '-g', String(gop), '-b:v', `${kbit}k`, '-maxrate', `${kbit}k`],
    ...['-bufsize', `${kbit}k`],
  ];
  const rtp = (port: number, payloadType: number) => [
    ...['-payload_type', String(payloadType), '-f', 'rtp', `udp://127.0.0.1:${port}?pkt_size=1200`],
  ];
  return [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-f', 'lavfi'],
    ...['-i', 'testsrc2=size=1280x720:rate=25[out0];sine=frequency=440[out1]'],
    ...['-map', '0:v:0', ...encode(options.topKbit, 25), ...rtp(options.topPort, 96)],
    ...options.rungs.flatMap((rung) => [
      ...['-map', '0:v:0', '-vf', `scale=-2:${rung.height}`, ...encode(rung.bitrateKbit, 12)],
      ...rtp(rung.port, 96),
    ]),
    ...['-map', '0:a:0', '-c:a', 'libopus', '-b:a', '64k', '-ar', '48000', '-ac', '2'],
    ...rtp(options.audioPort, 111),
  ];
}
