import type { StreamFacts } from './input-facts.js';

/**
 * H.264 profiles browsers decode over WebRTC (8-bit 4:2:0 by definition of the profile). High 10,
 * 4:2:2 and 4:4:4 profiles are not decoded by browsers' H.264 decoders; Extended is not supported.
 */
const browserProfiles = new Set(['Constrained Baseline', 'Baseline', 'Main', 'High']);
/** Profiles without B slices: their frames cannot arrive out of order. */
const noReorderProfiles = new Set(['Constrained Baseline', 'Baseline']);
/** `yuvj420p` is 4:2:0 8-bit in full range (many IP cameras); browsers decode it. */
const browserPixelFormats = new Set(['yuv420p', 'yuvj420p']);

/** `maybe`: it plays unless the unknown (B-frames before a probe) is against it. */
export type Verdict = { plays: 'yes' } | { plays: 'no' | 'maybe'; why: string };

/** Whether browsers decode this video stream as it is, over WebRTC. */
export function videoVerdict(stream: StreamFacts): Verdict {
  if (stream.codec !== 'h264') return { plays: 'no', why: `${describeStream(stream)} is not H.264` };
  if (stream.profile && !browserProfiles.has(stream.profile)) {
    return { plays: 'no', why: `H.264 ${stream.profile} is not decoded by browsers` };
  }
  if (stream.pix_fmt && !browserPixelFormats.has(stream.pix_fmt)) {
    return { plays: 'no', why: `pixel format ${stream.pix_fmt} (browsers decode 8-bit 4:2:0)` };
  }
  if (stream.field_order && stream.field_order !== 'progressive') {
    return { plays: 'no', why: `interlaced H.264 (${stream.field_order})` };
  }
  // Over WebRTC each frame is rendered as it arrives: frames sent out of presentation order make
  // browsers freeze or jump (MPEG-TS with B-frames: 2–4 frames in 10 s, then frozen).
  if (stream.reorders === true) return { plays: 'no', why: 'H.264 with B-frames (frames out of order)' };
  if (stream.reorders === undefined && !(stream.profile && noReorderProfiles.has(stream.profile))) {
    return { plays: 'maybe', why: `${describeStream(stream)} may have B-frames (not probed)` };
  }
  return { plays: 'yes' };
}

/** Whether browsers play this audio stream as it is: WebRTC audio is Opus at 48 kHz (RFC 7587 §4.1). */
export function audioVerdict(stream: StreamFacts): Verdict {
  if (stream.codec !== 'opus') return { plays: 'no', why: `${describeStream(stream)} is not Opus` };
  if (stream.sample_rate !== undefined && stream.sample_rate !== 48_000) {
    return { plays: 'no', why: `Opus at ${stream.sample_rate} Hz, not 48 kHz` };
  }
  if (stream.channels !== undefined && stream.channels > 2) {
    return { plays: 'no', why: `Opus with ${stream.channels} channels (browsers take mono or stereo)` };
  }
  return { plays: 'yes' };
}

const codecNames: Record<string, string> = {
  h264: 'H.264',
  hevc: 'HEVC',
  av1: 'AV1',
  vp8: 'VP8',
  vp9: 'VP9',
  mjpeg: 'MJPEG',
  mpeg2video: 'MPEG-2',
  mpeg4: 'MPEG-4 Part 2',
  aac: 'AAC',
  opus: 'Opus',
  mp3: 'MP3',
  mp2: 'MP2',
  ac3: 'AC-3',
  eac3: 'E-AC-3',
  pcm_s16le: 'PCM',
  pcm_alaw: 'G.711 A-law',
  pcm_mulaw: 'G.711 µ-law',
};

/** `H.264 High 640x360`, `AAC 44100 Hz`: how reasons name a stream. */
export function describeStream(stream: StreamFacts): string {
  const parts = [codecNames[stream.codec] ?? (stream.codec || 'an unknown codec')];
  if (stream.profile && stream.kind === 'video') parts.push(stream.profile);
  if (stream.width && stream.height) parts.push(`${stream.width}x${stream.height}`);
  if (stream.sample_rate) parts.push(`${stream.sample_rate} Hz`);
  return parts.join(' ');
}
