import type { StreamFacts } from './input-facts.js';

/**
 * CPU time per pixel of one second of video, in cores per (pixels/s), measured with FFmpeg 5.1's
 * `-benchmark` (user + system time) on an x86-64 desktop core for a 1080p30 source, real-time:
 * decoding H.264 0.16 cores, H.265 0.19 cores; scaling to 720p30 and encoding with the WebRTC leg's
 * x264 settings (veryfast, zerolatency, baseline) 0.29 cores. A slower CPU (a NAS's) takes
 * proportionally more, which `margin` leaves room for; the figure is an estimate, said as one.
 */
const decodePerPixel: Record<string, number> = { h264: 2.5e-9, hevc: 3.1e-9 };
/** Other decoders (MPEG-2, MJPEG, VP9, AV1…): taken as costly as H.265. */
const otherDecodePerPixel = 3.1e-9;
const encodePerPixel = 1.05e-8;
/** AAC (or another codec) to Opus at 48 kHz stereo: 0.38 s of CPU per minute of audio. */
const audioCores = 0.007;
const margin = 1.5;

/** What is assumed of a video input nothing is known about: 1080p at 30 fps, H.264. */
const assumed = { width: 1920, height: 1080, fps: 30, codec: 'h264' };

function round(cores: number): number {
  return Math.round(cores * 100) / 100;
}

/**
 * The estimated CPU cores of transcoding a video stream into the WebRTC leg (decode, scale down to
 * `maxHeight`, encode), or of an unknown one taken as 1080p30 H.264.
 *
 * @example videoTranscodeCores({ index: 0, kind: 'video', codec: 'hevc', width: 1920, height: 1080, fps: 25 }, 720) // 0.6
 */
export function videoTranscodeCores(stream: StreamFacts | undefined, maxHeight: number): number {
  const width = stream?.width || assumed.width;
  const height = stream?.height || assumed.height;
  const fps = stream?.fps || assumed.fps;
  const codec = stream?.codec || assumed.codec;
  const outHeight = maxHeight > 0 ? Math.min(height, maxHeight) : height;
  const outWidth = (width * outHeight) / height;
  const decode = width * height * fps * (decodePerPixel[codec] ?? otherDecodePerPixel);
  const encode = outWidth * outHeight * fps * encodePerPixel;
  return round((decode + encode) * margin);
}

/** The estimated CPU cores of transcoding an audio stream to Opus. */
export function audioTranscodeCores(): number {
  return round(audioCores * margin);
}

/**
 * A rendition's scale and encode, in cores per pixel per second, fitted on FFmpeg 5.1 runs of a
 * 720p25 camera-like H.264 input (temporal noise) on a 2-core x86-64 server, decode removed: each
 * input pixel costs the scaler 1.0e-9, each output pixel the encoder 7.3e-9 (x264 veryfast
 * zerolatency baseline, a keyframe every 0.5 s): 480p 0.097, 360p 0.065, 240p 0.041 cores. For
 * 1080p30 → 720p30 this gives 0.26 cores, the same measurement as the top's `encodePerPixel`
 * within noise. libvpx VP8 (`-deadline realtime -cpu-used 8 -threads 1`) took 1.6 times as much.
 */
const scalePerInputPixel = 1.0e-9;
const renditionEncodePerPixel = 7.3e-9;
const vp8Factor = 1.6;

/**
 * What one 360p rung of a 720p25 input costs by the rendition model before any margin, in cores:
 * the figure a calibration run on another machine is compared with to find that machine's factor.
 */
export const referenceRungCores = 0.065;

/** The frame rate renditions are sent at: the input's, at most 30 (`-r 30` above that). */
export const maxRenditionFps = 30;

/**
 * The estimated CPU cores of one rendition: scaling the decoded input to `height` (never up) and
 * encoding it with x264 or libvpx, at the input's frame rate capped at 30. The decode is not in
 * it: it is shared with the top (see `videoDecodeCores`).
 *
 * @example renditionCores({ index: 0, kind: 'video', codec: 'h264', width: 1280, height: 720, fps: 25 }, 360, 'h264') // 0.1
 */
export function renditionCores(
  stream: StreamFacts | undefined,
  height: number,
  codec: 'h264' | 'vp8',
  factor = margin,
): number {
  const width = stream?.width || assumed.width;
  const inHeight = stream?.height || assumed.height;
  const fps = stream?.fps || assumed.fps;
  const outHeight = Math.min(height, inHeight);
  const outWidth = (width * outHeight) / inHeight;
  const scale = width * inHeight * fps * scalePerInputPixel;
  const encode = outWidth * outHeight * Math.min(fps, maxRenditionFps) * renditionEncodePerPixel;
  return round((scale + encode) * (codec === 'vp8' ? vp8Factor : 1) * factor);
}

/**
 * The estimated CPU cores of decoding the video input once: what renditions add beside a copied
 * top (a transcoded top decodes it already, and FFmpeg decodes a stream once for every output).
 * `factor`, for both: this machine's speed against the one measured (a calibration run), or the
 * 1.5 margin for a CPU not measured.
 */
export function videoDecodeCores(stream: StreamFacts | undefined, factor = margin): number {
  const width = stream?.width || assumed.width;
  const height = stream?.height || assumed.height;
  const fps = stream?.fps || assumed.fps;
  const codec = stream?.codec || assumed.codec;
  return round(width * height * fps * (decodePerPixel[codec] ?? otherDecodePerPixel) * factor);
}
