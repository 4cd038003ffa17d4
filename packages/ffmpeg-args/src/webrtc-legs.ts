import { InvalidLegOptionsError } from './errors.js';
import { isProduced, type RenditionPlan } from './ladder.js';
import { type MediaPlan, planMedia, type TrackPlan } from './media-plan.js';
import type { WebRtcConfig } from './webrtc-config.js';

export type TrackKind = 'video' | 'audio';

/** One FFmpeg output: everything before the address, and the address itself. */
export interface RtpLeg {
  readonly kind: TrackKind;
  /** The rendition a video leg below the top carries (`360p`, `vp8-360p`); absent for the top and audio. */
  readonly rendition?: string;
  readonly payloadType: number;
  readonly port: number;
  /** Output options, in order, to place before the address. */
  readonly options: readonly string[];
  /** The output address, e.g. `udp://127.0.0.1:40000?pkt_size=1200`. */
  readonly address: string;
}

export interface WebRtcLegOptions {
  /** The process's `webrtc` block (already parsed by `webRtcConfigSchema`). */
  webrtc: Pick<
    WebRtcConfig,
    | 'video_pt'
    | 'audio_pt'
    | 'force_transcode'
    | 'video'
    | 'audio'
    | 'max_height'
    | 'max_bitrate_kbit'
    | 'gop_seconds'
  >;
  /**
   * This start's media plan (`planMedia` over the input's facts). Without one, the legs follow the
   * plan for an input not known: both tracks transcoded from the first video and audio streams,
   * unless the settings say otherwise.
   * @default planMedia(undefined, webrtc)
   */
  plan?: MediaPlan;
  /** Loopback port the video RTP goes to. */
  videoPort: number;
  /** Loopback port the audio RTP goes to. @default videoPort + 1 */
  audioPort?: number;
  /**
   * Loopback ports of the renditions FFmpeg makes (`producedRenditions(plan)`), one each, in that
   * order. @default none: a plan with such renditions then fails to build
   */
  renditionPorts?: readonly number[];
  /** @default '127.0.0.1' */
  host?: string;
  /**
   * Largest RTP packet FFmpeg may send (its `pkt_size`, RTP header included). 1200 leaves room for
   * the SRTP tag, header extensions and IPv6/UDP headers within a 1280-byte minimum MTU.
   * @default 1200
   */
  packetSize?: number;
}

/** Largest packet: 1280 (IPv6 minimum MTU) − 40 IPv6 − 8 UDP − 10 SRTP tag − 22 header extensions. */
export const maxRtpPacketSize = 1200;

/**
 * H.264 NAL unit types a browser does not need (H.264 Table 7-1): SEI (6), access unit delimiter
 * (9), end of sequence (10), end of stream (11), filler (12). Sent as RTP packets of their own they
 * cost every viewer a packet to encrypt and send: an x264 MPEG-TS at 25 fps carries an AUD per frame,
 * 126 packets/s where 101 carry the picture.
 */
export const droppedNalTypes = [6, 9, 10, 11, 12] as const;

/**
 * The bitstream filters of an H.264 copy, in order:
 * 1. `h264_mp4toannexb`: MP4/FLV/MKV (length-prefixed, parameter sets in the `avcC` header) to Annex B,
 *    inserting SPS/PPS before every IDR; an Annex B input (RTSP, MPEG-TS) passes unchanged;
 * 2. `filter_units`: drops the NAL unit types in `droppedNalTypes`;
 * 3. `dump_extra=freq=keyframe`: prepends the stream's SPS/PPS to every keyframe that does not start
 *    with them — an RTSP camera that sends them only in its SDP (`sprop-parameter-sets`). Placed after
 *    the filter, so keyframes that already start with them (x264's MPEG-TS, step 1's output) stay as
 *    they are rather than carrying them twice.
 * Checked with FFmpeg 5.1 on MP4, FLV, Matroska, MPEG-TS and RTSP (parameter sets in the SDP only).
 */
export const h264CopyBitstreamFilters = `h264_mp4toannexb,filter_units=remove_types=${droppedNalTypes.join('|')},dump_extra=freq=keyframe`;

/**
 * Builds the FFmpeg output legs that send a process's tracks as RTP to loopback, following the
 * start's media plan: one leg per track that is not `off` (so no `-map` can fail), each one FFmpeg
 * output because FFmpeg's RTP muxer takes one stream per output.
 */
export function buildWebRtcLegs(options: WebRtcLegOptions): RtpLeg[] {
  const { webrtc } = options;
  const host = options.host ?? '127.0.0.1';
  const packetSize = options.packetSize ?? maxRtpPacketSize;
  const audioPort = options.audioPort ?? options.videoPort + 1;
  const plan = options.plan ?? planMedia(undefined, webrtc);
  assertPort('videoPort', options.videoPort);
  if (packetSize < 256 || packetSize > maxRtpPacketSize || !Number.isInteger(packetSize)) {
    throw new InvalidLegOptionsError(
      'packetSize',
      packetSize,
      `must be an integer in 256-${maxRtpPacketSize}`,
    );
  }
  if (!(webrtc.gop_seconds > 0 && webrtc.gop_seconds <= 10)) {
    throw new InvalidLegOptionsError('gop_seconds', webrtc.gop_seconds, 'must be in (0, 10]');
  }

  const legs: RtpLeg[] = [];
  if (plan.video.action !== 'off') {
    legs.push(
      rtpLeg({
        kind: 'video',
        stream: streamOf(plan.video, 'video'),
        codec:
          plan.video.action === 'copy'
            ? videoCopyOptions(plan.video)
            : h264EncoderOptions({
                height: webrtc.max_height > 0 ? `min(ih,${webrtc.max_height})` : 'ih',
                bitrateKbit: webrtc.max_bitrate_kbit,
                gopSeconds: webrtc.gop_seconds,
                target: false,
              }),
        payloadType: webrtc.video_pt,
        host,
        port: options.videoPort,
        packetSize,
      }),
    );
  }
  if (plan.audio.action !== 'off') {
    assertPort('audioPort', audioPort);
    if (audioPort === options.videoPort) {
      throw new InvalidLegOptionsError('audioPort', audioPort, 'must differ from videoPort');
    }
    legs.push(
      rtpLeg({
        kind: 'audio',
        stream: streamOf(plan.audio, 'audio'),
        codec: plan.audio.action === 'copy' ? ['-c:a', 'copy'] : opusEncoderOptions,
        payloadType: webrtc.audio_pt,
        host,
        port: audioPort,
        packetSize,
      }),
    );
  }
  legs.push(...renditionLegs(plan, webrtc, options.renditionPorts ?? [], host, packetSize));
  return legs;
}

/** The renditions of a plan FFmpeg makes, each needing a port of its own, in the order legs take them. */
export function producedRenditions(plan: MediaPlan): RenditionPlan[] {
  return plan.renditions.filter(isProduced);
}

/** VP8's payload type: 97, or the next dynamic one the video and audio legs do not use. */
export function vp8PayloadType(webrtc: Pick<WebRtcConfig, 'video_pt' | 'audio_pt'>): number {
  let payloadType = 97;
  while (payloadType === webrtc.video_pt || payloadType === webrtc.audio_pt) payloadType++;
  return payloadType;
}

/**
 * One leg per rendition FFmpeg makes: FFmpeg decodes the input stream once and gives the frames
 * to every output's filter graph, so N legs are one decode, N scales and N encodes (measured as
 * cheap as one `-filter_complex split`). Rungs share the top's payload type: the data plane tells
 * tracks apart by port.
 */
function renditionLegs(
  plan: MediaPlan,
  webrtc: WebRtcLegOptions['webrtc'],
  ports: readonly number[],
  host: string,
  packetSize: number,
): RtpLeg[] {
  const produced = producedRenditions(plan);
  if (produced.length === 0) return [];
  if (ports.length !== produced.length) {
    throw new InvalidLegOptionsError(
      'renditionPorts',
      ports.length,
      `must be one port per rendition made (${produced.map((r) => r.id).join(', ')})`,
    );
  }
  const stream = streamOf(plan.video, 'video');
  return produced.map((rendition, index) => {
    const port = ports[index]!;
    assertPort('renditionPorts', port);
    const height = `min(ih,${rendition.height ?? 'ih'})`;
    const rate = rendition.fps === undefined ? [] : ['-r', String(rendition.fps)];
    const vp8 = rendition.kind === 'vp8';
    const leg = rtpLeg({
      kind: 'video',
      stream,
      codec: [
        ...rate,
        ...(vp8
          ? vp8EncoderOptions(height, rendition.bitrate_kbit)
          : h264EncoderOptions({
              height,
              bitrateKbit: rendition.bitrate_kbit,
              gopSeconds: renditionGopSeconds,
              target: true,
            })),
      ],
      payloadType: vp8 ? vp8PayloadType(webrtc) : webrtc.video_pt,
      host,
      port,
      packetSize,
    });
    return { ...leg, rendition: rendition.id };
  });
}

/**
 * The VP8 rendition made on demand (`vp8: 'on-demand'`): the leg of a second FFmpeg whose only
 * input is the process's own picture (one video stream), the same encode `vp8: 'always'` puts in
 * the process's FFmpeg. Its address is the VP8 track's port.
 * @throws InvalidLegOptionsError
 */
export function vp8OnDemandLeg(options: {
  rendition: RenditionPlan;
  webrtc: Pick<WebRtcConfig, 'video_pt' | 'audio_pt'>;
  port: number;
  /** @default '127.0.0.1' */
  host?: string;
}): RtpLeg {
  assertPort('port', options.port);
  const { rendition } = options;
  const rate = rendition.fps === undefined ? [] : ['-r', String(rendition.fps)];
  const leg = rtpLeg({
    kind: 'video',
    stream: '0:v:0',
    codec: [...rate, ...vp8EncoderOptions(`min(ih,${rendition.height ?? 'ih'})`, rendition.bitrate_kbit)],
    payloadType: vp8PayloadType(options.webrtc),
    host: options.host ?? '127.0.0.1',
    port: options.port,
    packetSize: maxRtpPacketSize,
  });
  return { ...leg, rendition: rendition.id };
}

/**
 * Keyframe interval of the renditions: a viewer moved to another rendition waits for its next
 * keyframe, so half a second bounds that wait. Measured on a 360p rung at 450 kbit/s: 0.3 dB PSNR
 * below a 1 s interval.
 */
const renditionGopSeconds = 0.5;

/**
 * FFmpeg arguments (after the binary) that time, with `-benchmark`, `seconds` of a generated 720p25
 * picture encoded as a 360p rendition is, to `-f null`; with `rung: false` the generator alone. The
 * difference is what one rung costs on this machine, against `referenceRungCores`.
 */
export function rungBenchmarkArgs(seconds: number, rung: boolean): string[] {
  const encode = rung
    ? h264EncoderOptions({
        height: 'min(ih,360)',
        bitrateKbit: 350,
        gopSeconds: renditionGopSeconds,
        target: true,
      })
    : [];
  return [
    ...['-hide_banner', '-nostdin', '-benchmark', '-f', 'lavfi'],
    ...['-i', 'testsrc2=size=1280x720:rate=25', '-t', String(seconds), ...encode, '-f', 'null', '-'],
  ];
}

/** The leg as a flat argument list, for logging or a hand-built command line. */
export function legToArgs(leg: RtpLeg): string[] {
  return [...leg.options, leg.address];
}

function streamOf(track: TrackPlan, kind: TrackKind): string {
  if (!track.stream)
    throw new InvalidLegOptionsError(`${kind} stream`, track.stream, 'a planned track needs one');
  return track.stream;
}

interface LegParts {
  kind: TrackKind;
  stream: string;
  codec: readonly string[];
  payloadType: number;
  host: string;
  port: number;
  packetSize: number;
}

function rtpLeg(parts: LegParts): RtpLeg {
  if (!Number.isInteger(parts.payloadType) || parts.payloadType < 0 || parts.payloadType > 127) {
    throw new InvalidLegOptionsError(`${parts.kind} payload type`, parts.payloadType, 'must be 0-127');
  }
  const hostPart = parts.host.includes(':') ? `[${parts.host}]` : parts.host;
  return {
    kind: parts.kind,
    payloadType: parts.payloadType,
    port: parts.port,
    options: ['-map', parts.stream, ...parts.codec, '-payload_type', String(parts.payloadType), '-f', 'rtp'],
    // udp:// (not rtp://) keeps FFmpeg's RTCP sender reports on the same port, so one socket per track.
    address: `udp://${hostPart}:${parts.port}?pkt_size=${parts.packetSize}`,
  };
}

/**
 * A copy sends the packets as they are; H.264 (or what is expected to be H.264) gets its parameter
 * sets in-band and loses the NAL units browsers do not need. A copy of another codec (set
 * explicitly, with a warning in the plan) goes out untouched: the H.264 filters would refuse it.
 */
function videoCopyOptions(track: TrackPlan): string[] {
  const h264 = track.from === 'h264' || track.from === 'unknown';
  return h264 ? ['-c:v', 'copy', '-bsf:v', h264CopyBitstreamFilters] : ['-c:v', 'copy'];
}

interface H264Encode {
  /** FFmpeg expression of the output height (`min(ih,720)`, `ih`). */
  height: string;
  bitrateKbit: number;
  gopSeconds: number;
  /** Also a target (`-b:v`): a rendition's rate must be predictable for the viewer it is chosen for. */
  target: boolean;
}

/** Scaled down (never up) with the display aspect kept, in square pixels and even dimensions (4:2:0 needs them). */
function scaleFilter(height: string): string {
  return `scale=w='trunc(oh*dar/2)*2':h='trunc(${height}/2)*2',setsar=1`;
}

/**
 * H.264 every browser decodes: constrained baseline (no B-frames), 4:2:0 8-bit, low-latency tuning,
 * scaled to `height`, capped at the bitrate over one second, a keyframe every `gopSeconds`
 * whatever the frame rate. x264 repeats SPS/PPS before each IDR by itself, as FFmpeg's RTP muxer
 * asks for no global header.
 */
function h264EncoderOptions(encode: H264Encode): string[] {
  const { height, gopSeconds } = encode;
  const bitrate = `${encode.bitrateKbit}k`;
  return [
    '-c:v',
    'libx264',
    '-preset',
    'veryfast',
    '-tune',
    'zerolatency',
    '-profile:v',
    'baseline',
    '-vf',
    scaleFilter(height),
    '-pix_fmt',
    'yuv420p',
    '-bf',
    '0',
    ...(encode.target ? ['-b:v', bitrate] : []),
    '-maxrate',
    bitrate,
    '-bufsize',
    bitrate,
    '-sc_threshold',
    '0',
    '-force_key_frames',
    `expr:gte(t,n_forced*${gopSeconds})`,
  ];
}

/**
 * VP8 in real time on one thread: libvpx's row threads spin-wait for each other, and two of them
 * were measured burning two whole cores on a loaded machine. No alt-ref or lag (they delay frames),
 * error-resilient partitions for a lossy link, a keyframe every half second as the rungs.
 */
function vp8EncoderOptions(height: string, bitrateKbit: number): string[] {
  const bitrate = `${bitrateKbit}k`;
  return [
    ...['-vf', scaleFilter(height), '-pix_fmt', 'yuv420p'],
    ...['-c:v', 'libvpx', '-deadline', 'realtime', '-cpu-used', '8', '-threads', '1'],
    ...['-lag-in-frames', '0', '-error-resilient', '1', '-auto-alt-ref', '0'],
    ...['-b:v', bitrate, '-maxrate', bitrate, '-minrate', `${Math.round(bitrateKbit / 2)}k`],
    ...['-bufsize', bitrate, '-qmin', '4', '-qmax', '56'],
    ...['-force_key_frames', `expr:gte(t,n_forced*${renditionGopSeconds})`],
  ];
}

/** Opus at 48 kHz stereo, the only clock rate WebRTC signals for Opus (RFC 7587 §4.1). */
const opusEncoderOptions = ['-c:a', 'libopus', '-ar', '48000', '-ac', '2', '-b:a', '64k'];

function assertPort(field: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidLegOptionsError(field, port, 'must be an integer port 1-65535');
  }
}
