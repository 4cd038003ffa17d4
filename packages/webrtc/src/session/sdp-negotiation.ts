import { InvalidSdpError, NoUsableCodecError } from '../errors.js';

interface MediaSection {
  kind: string;
  lines: string[];
}

interface ParsedSdp {
  session: string[];
  media: MediaSection[];
}

const maxOfferBytes = 64 * 1024;

/** Splits an SDP into the session part and its media sections; rejects what is not SDP text. */
export function parseSdp(sdp: string): ParsedSdp {
  if (sdp.length > maxOfferBytes) throw new InvalidSdpError('larger than 64 KiB');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: binary bodies are exactly what this rejects
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(sdp)) throw new InvalidSdpError('contains binary data');
  const lines = sdp.split(/\r?\n/).filter((line) => line.length > 0);
  if (lines[0] !== 'v=0') throw new InvalidSdpError('does not start with v=0');
  const session: string[] = [];
  const media: MediaSection[] = [];
  for (const line of lines) {
    if (!/^[a-z]=/.test(line)) throw new InvalidSdpError(`malformed line "${line.slice(0, 40)}"`);
    if (line.startsWith('m=')) {
      const kind = line.slice(2).split(' ')[0] ?? '';
      media.push({ kind, lines: [line] });
    } else if (media.length > 0) media.at(-1)!.lines.push(line);
    else session.push(line);
  }
  if (media.length === 0) throw new InvalidSdpError('no media section');
  for (const section of media) {
    const parts = section.lines[0]!.split(' ');
    if (parts.length < 4 || !/^\d+$/.test(parts[1] ?? ''))
      throw new InvalidSdpError(`malformed media line "${section.lines[0]!.slice(0, 60)}"`);
  }
  return { session, media };
}

/** WebRTC needs ICE credentials and a DTLS fingerprint (RFC 8829 §5.8), per session or per m-line. */
function requireTransportAttributes(sdp: ParsedSdp): void {
  for (const attribute of ['a=ice-ufrag:', 'a=ice-pwd:', 'a=fingerprint:']) {
    const inSession = sdp.session.some((line) => line.startsWith(attribute));
    const inEveryMedia = sdp.media.every(
      (section) =>
        section.lines[0]!.split(' ')[1] === '0' || section.lines.some((line) => line.startsWith(attribute)),
    );
    if (!inSession && !inEveryMedia) throw new InvalidSdpError(`missing ${attribute.slice(2, -1)}`);
  }
}

function serialise(sdp: ParsedSdp): string {
  return `${[...sdp.session, ...sdp.media.flatMap((section) => section.lines)].join('\r\n')}\r\n`;
}

interface Rtpmap {
  payloadType: number;
  codec: string;
  clockRate: number;
  fmtp: string;
}

function rtpmaps(section: MediaSection): Rtpmap[] {
  const fmtp = new Map<number, string>();
  for (const line of section.lines) {
    const match = /^a=fmtp:(\d+) (.*)$/.exec(line);
    if (match) fmtp.set(Number(match[1]), match[2]!);
  }
  const maps: Rtpmap[] = [];
  for (const line of section.lines) {
    const match = /^a=rtpmap:(\d+) ([^/]+)\/(\d+)/.exec(line);
    if (!match) continue;
    const payloadType = Number(match[1]);
    maps.push({
      payloadType,
      codec: match[2]!.toLowerCase(),
      clockRate: Number(match[3]),
      fmtp: fmtp.get(payloadType) ?? '',
    });
  }
  return maps;
}

function fmtpValue(fmtp: string, key: string): string | undefined {
  for (const pair of fmtp.split(';')) {
    const [name, value] = pair.split('=');
    if (name?.trim().toLowerCase() === key) return value?.trim().toLowerCase();
  }
  return undefined;
}

/**
 * The H.264 variant to send: packetization-mode 1 (FU-A, what FFmpeg's RTP muxer writes), preferring
 * constrained baseline 42e01f — what every browser offers and decodes in hardware — then the
 * baseline family, then any other profile.
 */
function chooseH264(maps: Rtpmap[]): number | undefined {
  const candidates = maps.filter(
    (map) =>
      map.codec === 'h264' && map.clockRate === 90_000 && fmtpValue(map.fmtp, 'packetization-mode') === '1',
  );
  const rank = (map: Rtpmap) => {
    const profile = fmtpValue(map.fmtp, 'profile-level-id') ?? '';
    if (profile === '42e01f') return 0;
    if (/^42[ce]0/.test(profile)) return 1;
    if (profile.startsWith('42')) return 2;
    return 3;
  };
  return candidates.sort((a, b) => rank(a) - rank(b))[0]?.payloadType;
}

function chooseOpus(maps: Rtpmap[]): number | undefined {
  return maps.find((map) => map.codec === 'opus' && map.clockRate === 48_000)?.payloadType;
}

export interface OfferPlan {
  /** The offer reduced to one codec per usable m-line; unusable m-lines carry port 0 (rejected). */
  sdp: string;
  videoPayloadType: number | undefined;
  audioPayloadType: number | undefined;
}

/**
 * Reduces a viewer's offer to what we send: one H.264 variant for video, Opus for audio. werift
 * matches codecs by mime type and would otherwise echo every variant and send with the first.
 */
export function planOffer(offerSdp: string, options: { hasAudio: boolean }): OfferPlan {
  const sdp = parseSdp(offerSdp);
  requireTransportAttributes(sdp);
  let videoPayloadType: number | undefined;
  let audioPayloadType: number | undefined;
  const offered: string[] = [];
  for (const section of sdp.media) {
    const maps = rtpmaps(section);
    offered.push(...maps.map((map) => `${section.kind}:${map.codec}`));
    const port = section.lines[0]!.split(' ')[1];
    let chosen: number | undefined;
    if (port !== '0' && section.kind === 'video' && videoPayloadType === undefined)
      chosen = videoPayloadType = chooseH264(maps);
    if (port !== '0' && section.kind === 'audio' && audioPayloadType === undefined && options.hasAudio)
      chosen = audioPayloadType = chooseOpus(maps);
    section.lines = chosen === undefined ? rejectSection(section) : keepOnly(section, chosen);
  }
  if (videoPayloadType === undefined && audioPayloadType === undefined)
    throw new NoUsableCodecError([...new Set(offered)]);
  return { sdp: serialise(sdp), videoPayloadType, audioPayloadType };
}

function keepOnly(section: MediaSection, payloadType: number): string[] {
  const [mLine, ...rest] = section.lines;
  const parts = mLine!.split(' ');
  const kept = rest.filter((line) => {
    const match = /^a=(rtpmap|fmtp|rtcp-fb):(\d+|\*)/.exec(line);
    return !match || match[2] === '*' || Number(match[2]) === payloadType;
  });
  return [[...parts.slice(0, 3), String(payloadType)].join(' '), ...kept];
}

/** Port 0 marks an m-line rejected (RFC 3264 §6); the answer then rejects it too. */
function rejectSection(section: MediaSection): string[] {
  const parts = section.lines[0]!.split(' ');
  const mid = section.lines.find((line) => line.startsWith('a=mid:'));
  return [[parts[0], '0', ...parts.slice(2)].join(' '), ...(mid ? [mid] : []), 'a=inactive'];
}

/** RFC 8445 §5.1.2.1 with a host type preference below UDP's, so UDP wins when both work. */
const tcpPassivePriority = (90 << 24) + (65_535 << 8) + 255;

export interface AnswerFixOptions {
  /** One media stream id for both tracks, so players put them in one MediaStream. */
  streamId: string;
  /** Keep only candidates on these addresses (undefined keeps all). */
  candidateAddresses: Set<string> | undefined;
  /** The shared ICE-TCP port: a passive TCP candidate on it is added for every host address. */
  tcpPort?: number | undefined;
}

/**
 * What werift's answer lacks for WHEP: `a=rtcp-mux-only` in every bundled m-section (draft-ietf-
 * wish-whep requires RTCP multiplexing), one `msid` stream for both tracks, and only the candidates
 * viewers should use.
 */
export function finishAnswer(
  answerSdp: string,
  options: AnswerFixOptions,
): { sdp: string; candidates: number } {
  const sdp = parseSdp(answerSdp);
  let candidates = 0;
  const tcpAddresses = new Set<string>();
  for (const section of sdp.media) {
    const rejected = section.lines[0]!.split(' ')[1] === '0';
    const sending = !rejected && section.lines.includes('a=sendonly');
    const lines: string[] = [];
    tcpAddresses.clear();
    for (const line of section.lines) {
      if (line.startsWith('a=candidate:')) {
        const fields = line.split(' ');
        const address = fields[4] ?? '';
        if (options.candidateAddresses && !options.candidateAddresses.has(address)) continue;
        // werift's own TCP candidates are per-peer listeners (closed once answered) or active
        // ones that would dial viewers; the shared ICE-TCP port is advertised below instead.
        if (fields[2]?.toLowerCase() === 'tcp') continue;
        candidates++;
        if (options.tcpPort !== undefined && fields[7] === 'host') tcpAddresses.add(address);
      }
      if (line === 'a=end-of-candidates' && tcpAddresses.size > 0) {
        // One passive TCP candidate per advertised address, public and NAT 1:1 ones included
        // (werift cannot listen on an address that is not local, so it would not offer them).
        let index = 0;
        for (const address of tcpAddresses) {
          lines.push(
            `a=candidate:tcp${index} 1 tcp ${tcpPassivePriority - index} ${address} ${options.tcpPort} typ host tcptype passive`,
          );
          index++;
          candidates++;
        }
        tcpAddresses.clear();
      }
      // Every candidate is in the answer: we do not trickle.
      if (
        line.startsWith('a=rtcp-mux-only') ||
        line === 'a=ice-options:trickle' ||
        line.startsWith('a=msid:')
      )
        continue;
      lines.push(line.replace(/^(a=ssrc:\d+ msid:)\S+/, `$1${options.streamId}`));
      if (line === 'a=rtcp-mux' && !rejected) lines.push('a=rtcp-mux-only');
      if (line === 'a=sendonly' && sending)
        lines.push(`a=msid:${options.streamId} ${options.streamId}-${section.kind}`);
    }
    section.lines = lines;
  }
  return { sdp: serialise(sdp), candidates };
}
