import { basename, dirname, join } from 'node:path';

/**
 * ffprobe beside the given FFmpeg: `/opt/ffmpeg/bin/ffmpeg` → `/opt/ffmpeg/bin/ffprobe`; a bare
 * `ffmpeg` (found on PATH) → `ffprobe`.
 */
export function ffprobePathFor(ffmpegBinary: string): string {
  const name = basename(ffmpegBinary).replace(/ffmpeg(?!.*ffmpeg)/, 'ffprobe');
  const probe = name.includes('ffprobe') ? name : 'ffprobe';
  return ffmpegBinary.includes('/') ? join(dirname(ffmpegBinary), probe) : probe;
}

/**
 * Options of `ffmpeg` only (ffprobe has no `-re`, `-stream_loop`, decoder or seek options and fails on
 * them), with how many values each takes. Per-stream forms (`-c:v`) are matched by their name.
 */
const ffmpegOnlyOptions = new Map<string, number>([
  ['-re', 0],
  ['-an', 0],
  ['-vn', 0],
  ['-sn', 0],
  ['-dn', 0],
  ['-accurate_seek', 0],
  ['-noaccurate_seek', 0],
  ['-copyts', 0],
  ['-start_at_zero', 0],
  ['-autorotate', 0],
  ['-noautorotate', 0],
  ['-fix_sub_duration', 0],
  ['-nostdin', 0],
  ['-stream_loop', 1],
  ['-readrate', 1],
  ['-readrate_initial_burst', 1],
  ['-thread_queue_size', 1],
  ['-itsoffset', 1],
  ['-itsscale', 1],
  ['-ss', 1],
  ['-sseof', 1],
  ['-t', 1],
  ['-to', 1],
  ['-seek_timestamp', 1],
  ['-isync', 1],
  ['-r', 1],
  ['-c', 1],
  ['-codec', 1],
  ['-vcodec', 1],
  ['-acodec', 1],
  ['-scodec', 1],
  ['-hwaccel', 1],
  ['-hwaccel_device', 1],
  ['-hwaccel_output_format', 1],
  ['-pix_fmt', 1],
  ['-discard', 1],
  ['-dump_attachment', 1],
  ['-guess_layout_max', 1],
  ['-canvas_size', 1],
  ['-tag', 1],
  ['-display_rotation', 1],
  ['-display_hflip', 0],
  ['-display_vflip', 0],
]);

/** The input's options ffprobe accepts: FFmpeg-only ones dropped, `-s` spelled `-video_size`. */
export function probeInputOptions(options: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < options.length; i++) {
    const option = options[i]!;
    const name = option.split(':')[0]!;
    const skip = option.startsWith('-') ? ffmpegOnlyOptions.get(name) : undefined;
    if (skip !== undefined) {
      i += skip;
      continue;
    }
    if (name === '-s') kept.push('-video_size');
    else kept.push(option);
  }
  return kept;
}
