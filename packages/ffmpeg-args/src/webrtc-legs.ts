import { InvalidLegOptionsError } from './errors.js';
import type { WebRtcConfig } from './webrtc-config.js';

export type TrackKind = 'video' | 'audio';

/** One FFmpeg output: everything before the address, and the address itself. */
export interface RtpLeg {
  readonly kind: TrackKind;
  readonly payloadType: number;
  readonly port: number;
  /** Output options, in order, to place before the address. */
  readonly options: readonly string[];
  /** The output address, e.g. `udp://127.0.0.1:40000?pkt_size=1200`. */
  readonly address: string;
}

export interface WebRtcLegOptions {
  /** The process's `webrtc` block (already parsed by `webRtcConfigSchema`). */
  webrtc: Pick<WebRtcConfig, 'video_pt' | 'audio_pt' | 'force_transcode' | 'audio'>;
  /** Loopback port the video RTP goes to. */
  videoPort: number;
  /** Loopback port the audio RTP goes to. @default videoPort + 1 */
  audioPort?: number;
  /** @default '127.0.0.1' */
  host?: string;
  /**
   * Largest RTP packet FFmpeg may send (its `pkt_size`, RTP header included). 1200 leaves room for
   * the SRTP tag, header extensions and IPv6/UDP headers within a 1280-byte minimum MTU.
   * @default 1200
   */
  packetSize?: number;
  /** FFmpeg stream specifier of the video to send. @default '0:v:0' */
  videoStream?: string;
  /** FFmpeg stream specifier of the audio to send. @default '0:a:0' */
  audioStream?: string;
  /**
   * Override `force_transcode` per track, e.g. keep copying H.264 video but encode AAC audio to
   * Opus, which is all a browser plays.
   */
  transcode?: { video?: boolean; audio?: boolean };
  /** Keyframe interval when transcoding video, in seconds. @default 1 */
  gopSeconds?: number;
}

/** Largest packet: 1280 (IPv6 minimum MTU) − 40 IPv6 − 8 UDP − 10 SRTP tag − 22 header extensions. */
export const maxRtpPacketSize = 1200;

/**
 * Builds the FFmpeg output legs that send a process's video (and audio, unless disabled) as RTP to
 * loopback. Each leg is one FFmpeg output, because FFmpeg's RTP muxer takes one stream per output.
 */
export function buildWebRtcLegs(options: WebRtcLegOptions): RtpLeg[] {
  const host = options.host ?? '127.0.0.1';
  const packetSize = options.packetSize ?? maxRtpPacketSize;
  const audioPort = options.audioPort ?? options.videoPort + 1;
  assertPort('videoPort', options.videoPort);
  if (packetSize < 256 || packetSize > maxRtpPacketSize || !Number.isInteger(packetSize)) {
    throw new InvalidLegOptionsError(
      'packetSize',
      packetSize,
      `must be an integer in 256-${maxRtpPacketSize}`,
    );
  }
  const gopSeconds = options.gopSeconds ?? 1;
  if (!(gopSeconds > 0 && gopSeconds <= 10)) {
    throw new InvalidLegOptionsError('gopSeconds', gopSeconds, 'must be in (0, 10]');
  }
  const { webrtc } = options;
  const transcodeVideo = options.transcode?.video ?? webrtc.force_transcode;
  const transcodeAudio = options.transcode?.audio ?? webrtc.force_transcode;

  const legs: RtpLeg[] = [
    rtpLeg({
      kind: 'video',
      stream: options.videoStream ?? '0:v:0',
      codec: transcodeVideo ? h264EncoderOptions(gopSeconds) : ['-c:v', 'copy'],
      payloadType: webrtc.video_pt,
      host,
      port: options.videoPort,
      packetSize,
    }),
  ];
  if (webrtc.audio) {
    assertPort('audioPort', audioPort);
    if (audioPort === options.videoPort) {
      throw new InvalidLegOptionsError('audioPort', audioPort, 'must differ from videoPort');
    }
    legs.push(
      rtpLeg({
        kind: 'audio',
        stream: options.audioStream ?? '0:a:0',
        codec: transcodeAudio ? opusEncoderOptions : ['-c:a', 'copy'],
        payloadType: webrtc.audio_pt,
        host,
        port: audioPort,
        packetSize,
      }),
    );
  }
  return legs;
}

/** The leg as a flat argument list, for logging or a hand-built command line. */
export function legToArgs(leg: RtpLeg): string[] {
  return [...leg.options, leg.address];
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
 * H.264 every browser decodes: constrained baseline (no B-frames), 4:2:0, low-latency tuning,
 * a keyframe every `gopSeconds` whatever the frame rate, with SPS/PPS repeated in-band (x264's
 * default when the muxer asks for no global header, as FFmpeg's RTP muxer does).
 */
function h264EncoderOptions(gopSeconds: number): string[] {
  return [
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
    '-sc_threshold',
    '0',
    '-force_key_frames',
    `expr:gte(t,n_forced*${gopSeconds})`,
  ];
}

/** Opus at 48 kHz stereo, the only clock rate WebRTC signals for Opus (RFC 7587 §4.1). */
const opusEncoderOptions = ['-c:a', 'libopus', '-ar', '48000', '-ac', '2', '-b:a', '64k'];

function assertPort(field: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidLegOptionsError(field, port, 'must be an integer port 1-65535');
  }
}
