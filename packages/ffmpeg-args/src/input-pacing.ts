import { z } from 'zod';
import type { InputFacts } from './input-facts.js';
import { isListeningInput, type ProcessInput } from './listening-input.js';

/** How FFmpeg reads one input of a start: at the input's own rate, or as fast as it comes. */
export const inputPacingSchema = z.object({
  /** The input's index in the process's `input` list. */
  input: z.number().int().min(0),
  /** The server puts `-re` before this input for this start: FFmpeg reads it at its own rate. */
  paced: z.boolean(),
  /** Why, in words for the process's state and log. */
  reason: z.string(),
});

export type InputPacing = z.infer<typeof inputPacingSchema>;

/** What `-re` does, as the reasons say it. */
const readAtOwnRate = 'read at its own rate (-re)';

/** Capture devices and grabbers: they deliver in real time; `-re` would only add delay. */
const deviceFormats = new Set([
  'alsa',
  'android_camera',
  'avfoundation',
  'decklink',
  'dshow',
  'fbdev',
  'gdigrab',
  'iec61883',
  'jack',
  'kmsgrab',
  'openal',
  'oss',
  'pulse',
  'sndio',
  'v4l2',
  'video4linux2',
  'vfwcap',
  'x11grab',
  'xcbgrab',
]);

/** Protocols whose data arrives at the sender's pace (a camera, a publisher, a relay). */
const realTimeProtocols = new Set([
  'rtsp',
  'rtsps',
  'rtmp',
  'rtmps',
  'rtmpt',
  'rtmpe',
  'rtmpte',
  'srt',
  'udp',
  'rtp',
  'tcp',
  'tls',
  'rist',
  'zmq',
  'unix',
]);

/** Protocols that read files: a local path has no scheme at all. */
const fileProtocols = new Set(['file', 'concat', 'subfile']);

/**
 * Whether FFmpeg should read an input at its own rate (`-re`) for WebRTC viewers, who play what
 * arrives when it arrives. Measured (`bench/e2e-input-pacing.mjs`): a live HLS stream of 2 s segments
 * read without `-re` reached a viewer at 0–82 frames per second, frozen 13.9 s of 15, because FFmpeg
 * fetches each segment whole and sends it at once; a file was sent at up to 1,351 frames per second
 * with 10,687 packets lost. With `-re` both played at 21–29 fps.
 *
 * Paced: HLS and DASH (live or not), files (a local path, `file:`, anything over HTTP with a
 * duration) and generators (`lavfi`). Not paced, since they come in real time and `-re` would only
 * add delay: listening inputs, streaming protocols (RTSP, RTMP, SRT, UDP, RTP, TCP…), capture
 * devices, and a stream over HTTP without a duration (a live MPEG-TS or FLV feed). Options that
 * already set a rate (`-re`, `-readrate`) are left as they are; an input of a kind not known is read
 * as it comes.
 */
export function planPacing(
  inputs: readonly ProcessInput[],
  facts: readonly (InputFacts | undefined)[],
): InputPacing[] {
  return inputs.map((input, index) => ({ input: index, ...pacingOf(input, facts[index]) }));
}

function pacingOf(input: ProcessInput, facts: InputFacts | undefined): Omit<InputPacing, 'input'> {
  const options = input.options ?? [];
  const set = options.find((option) => option === '-re' || option === '-readrate');
  if (set) return { paced: false, reason: `the input's options set its rate (${set})` };
  if (isListeningInput(input)) {
    return { paced: false, reason: 'a listening input: the publisher sends in real time' };
  }
  // `-f` names one demuxer; a probe names the one it found, with its aliases (`mov,mp4,m4a,…`).
  const formats = [optionValue(options, '-f') ?? '', ...(facts?.format ?? '').split(',')].filter(Boolean);
  const address = input.address.trim();
  const path = pathOf(address);
  const segmented =
    formats.some((format) => format === 'hls' || format === 'dash') ||
    /^hls[+:]/i.test(address) ||
    /\.(m3u8|mpd)$/i.test(path);
  if (segmented) {
    return {
      paced: true,
      reason: `HLS/DASH: FFmpeg fetches whole segments and would send each at once; ${readAtOwnRate}`,
    };
  }
  if (formats.includes('lavfi')) {
    return { paced: true, reason: `a generator (lavfi) runs as fast as the CPU allows; ${readAtOwnRate}` };
  }
  if (formats.some((format) => deviceFormats.has(format))) {
    return { paced: false, reason: 'a capture device delivers in real time' };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(address)?.[1]?.toLowerCase();
  if (scheme === undefined || fileProtocols.has(scheme)) {
    return { paced: true, reason: `a file is read as fast as the disk allows; ${readAtOwnRate}` };
  }
  if (realTimeProtocols.has(scheme)) return { paced: false, reason: `${scheme} arrives in real time` };
  if (scheme === 'http' || scheme === 'https') {
    if (facts?.duration !== undefined) {
      return {
        paced: true,
        reason: `a file over HTTP (it has a duration) is read as fast as it downloads; ${readAtOwnRate}`,
      };
    }
    return {
      paced: false,
      reason: facts
        ? 'a stream over HTTP without a duration (a live feed) arrives in real time'
        : 'over HTTP, not probed: read as it comes',
    };
  }
  return { paced: false, reason: `${scheme}: not known to come faster than real time, read as it comes` };
}

/** The value of the last `name value` pair in an input's options (FFmpeg takes the last). */
function optionValue(options: readonly string[], name: string): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < options.length - 1; i++) if (options[i] === name) value = options[i + 1];
  return value;
}

/** The path of a URL (no query or fragment), or the address itself. */
function pathOf(address: string): string {
  try {
    return new URL(address).pathname;
  } catch {
    return address.replace(/[?#].*$/, '');
  }
}
