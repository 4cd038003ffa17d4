// The little of RTSP 1.0 (RFC 2326) a loopback feed needs: requests in, responses out, and the
// interleaved binary frames (§10.12) both ways over one TCP connection.

import type { TapTracks } from './source-tap.js';

export interface RtspRequest {
  method: string;
  url: string;
  headers: Map<string, string>;
}

/** Requests bigger than this are not RTSP a reader sends: the connection is closed. */
export const maxRequestBytes = 8 * 1024;

/** A request or an interleaved frame at the start of `buffer`, how many bytes it took, or `undefined` for "need more". */
export type Parsed =
  | { type: 'request'; request: RtspRequest; length: number }
  | { type: 'frame'; length: number }
  | { type: 'invalid'; reason: string };

export function parseNext(buffer: Buffer): Parsed | undefined {
  if (buffer.length === 0) return undefined;
  // A reader's own RTCP (receiver reports), interleaved: `$`, channel, 16-bit length. Skipped.
  if (buffer[0] === 0x24) {
    if (buffer.length < 4) return undefined;
    const length = 4 + buffer.readUInt16BE(2);
    return buffer.length < length ? undefined : { type: 'frame', length };
  }
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0)
    return buffer.length > maxRequestBytes ? { type: 'invalid', reason: 'request too large' } : undefined;
  const lines = buffer.subarray(0, end).toString('latin1').split('\r\n');
  const [method, url, version] = (lines[0] ?? '').split(' ');
  if (!method || !url || version !== 'RTSP/1.0')
    return { type: 'invalid', reason: 'not an RTSP/1.0 request' };
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) return { type: 'invalid', reason: 'malformed header' };
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const body = Number(headers.get('content-length') ?? '0');
  if (!Number.isInteger(body) || body < 0 || body > maxRequestBytes)
    return { type: 'invalid', reason: 'bad content-length' };
  const length = end + 4 + body;
  if (buffer.length < length) return undefined;
  return { type: 'request', request: { method, url, headers }, length };
}

export function response(
  status: number,
  reason: string,
  cseq: string | undefined,
  headers: Record<string, string> = {},
  body = '',
): Buffer {
  const lines = [`RTSP/1.0 ${status} ${reason}`, `CSeq: ${cseq ?? '0'}`, 'Server: Dragon'];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body.length > 0) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}`, 'latin1');
}

/**
 * The session description of a feed: one m-line per track, `trackID=0` video and `trackID=1`
 * audio. H.264 parameter sets also come in band, in front of every keyframe (what FFmpeg's legs
 * and browsers send); `h264` puts the current ones in the fmtp, as an IP camera does.
 */
export function describeTracks(
  tracks: TapTracks,
  h264?: { profileLevelId: string; spropParameterSets: string },
): string {
  const lines = ['v=0', 'o=- 0 0 IN IP4 127.0.0.1', 's=Dragon', 'c=IN IP4 0.0.0.0', 't=0 0', 'a=control:*'];
  const video = tracks.video;
  if (video) {
    lines.push(`m=video 0 RTP/AVP ${video.payloadType}`);
    if (video.codec === 'h264') {
      lines.push(
        `a=rtpmap:${video.payloadType} H264/90000`,
        h264
          ? `a=fmtp:${video.payloadType} packetization-mode=1;profile-level-id=${h264.profileLevelId};sprop-parameter-sets=${h264.spropParameterSets}`
          : `a=fmtp:${video.payloadType} packetization-mode=1`,
      );
    } else lines.push(`a=rtpmap:${video.payloadType} VP8/90000`);
    lines.push('a=control:trackID=0');
  }
  const audio = tracks.audio;
  if (audio) {
    lines.push(
      `m=audio 0 RTP/AVP ${audio.payloadType}`,
      `a=rtpmap:${audio.payloadType} opus/48000/2`,
      `a=fmtp:${audio.payloadType} sprop-stereo=1`,
      'a=control:trackID=1',
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** The interleaved channel a `SETUP`'s `Transport` asks for over TCP, `undefined` when it asks for UDP. */
export function interleavedChannel(transport: string | undefined): number | undefined {
  if (!transport || !/RTP\/AVP\/TCP/i.test(transport)) return undefined;
  const match = /interleaved=(\d+)(?:-(\d+))?/i.exec(transport);
  const channel = match ? Number(match[1]) : 0;
  return channel <= 254 ? channel : undefined;
}
