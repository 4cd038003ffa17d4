import { InvalidSdpError, NoUsableCodecError } from '../errors.js';
import type { RemoteCandidateGate } from '../ice/remote-candidates.js';
import type { VideoCodec } from '../ingest/keyframes.js';

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

/**
 * Checks that an offer is SDP text (size, no binary, `v=0`, `<type>=<value>` lines, an m-section),
 * without planning it: what an HTTP front end asks before it looks at anything else (whep-http's
 * `checkOffer`). {@link planOffer} runs the same check, then the WebRTC-specific ones.
 * @throws InvalidSdpError
 */
export function checkOffer(offerSdp: string): void {
  parseSdp(offerSdp);
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

function chooseVp8(maps: Rtpmap[]): number | undefined {
  return maps.find((map) => map.codec === 'vp8' && map.clockRate === 90_000)?.payloadType;
}

/**
 * The video codec to send and its payload type: H.264 whenever the viewer offers it and the source
 * has it (no encode for it), else VP8 (a browser without H.264: an offline Firefox).
 */
function chooseVideo(
  maps: Rtpmap[],
  codecs: readonly VideoCodec[],
): { codec: VideoCodec; payloadType: number } | undefined {
  for (const codec of videoPreference) {
    if (!codecs.includes(codec)) continue;
    const payloadType = codec === 'h264' ? chooseH264(maps) : chooseVp8(maps);
    if (payloadType !== undefined) return { codec, payloadType };
  }
  return undefined;
}

const videoPreference: readonly VideoCodec[] = ['h264', 'vp8'];

/**
 * The video codec a publisher's offer is answered with: H.264 (packetization-mode 1) when its
 * first video section offers it, else VP8; undefined when it offers neither (or no video). What a
 * publication's source is opened with, so that its viewers are answered in that codec.
 * @throws InvalidSdpError when the text is not SDP
 */
export function offeredVideoCodec(offerSdp: string): VideoCodec | undefined {
  const video = parseSdp(offerSdp).media.find(
    (section) => section.kind === 'video' && section.lines[0]!.split(' ')[1] !== '0',
  );
  return video ? chooseVideo(rtpmaps(video), videoPreference)?.codec : undefined;
}

function chooseOpus(maps: Rtpmap[]): number | undefined {
  return maps.find((map) => map.codec === 'opus' && map.clockRate === 48_000)?.payloadType;
}

/** One offered m-section: answered through werift, or rejected here (RFC 3264 §6). */
export type PlannedSection =
  | { answered: true }
  | {
      answered: false;
      kind: string;
      /** The offered `<proto>` and first format, repeated in the rejected answer section. */
      proto: string;
      format: string;
      rtpmap: string | undefined;
      mid: string | undefined;
    };

export interface OfferPlan {
  /**
   * What werift sees: the offer reduced to the sections we answer, one codec each, with the
   * remote candidates that passed the gate. Rejected sections are left out (werift 0.25.2 throws
   * on a BUNDLE offer whose first section it cannot use) and put back by {@link finishAnswer}.
   */
  sdp: string;
  /** Every offered m-section, in order. */
  sections: PlannedSection[];
  videoPayloadType: number | undefined;
  /** The codec of `videoPayloadType`. */
  videoCodec: VideoCodec | undefined;
  audioPayloadType: number | undefined;
}

export interface PlanOptions {
  /** The source sends audio; without it an audio section is rejected. */
  hasAudio: boolean;
  /** The source sends video; without it (an audio-only input) a video section is rejected. @default true */
  hasVideo?: boolean;
  /**
   * The video codecs the source sends or can make (its renditions' codecs). @default ['h264']
   */
  videoCodecs?: readonly VideoCodec[];
  /** The viewer's remote candidate gate: the offer's candidates pass through it first. */
  candidates: RemoteCandidateGate;
}

/**
 * The one place an offer is checked and planned: SDP text within 64 KiB, ICE and DTLS attributes
 * present, then per m-section the codec we send — one H.264 variant for video, or VP8 when the
 * viewer has no H.264 and the source has VP8; Opus for audio — or a rejection. werift matches codecs by mime type and would otherwise echo every variant and
 * send with the first. Remote candidates pass the gate (cap, never-checked addresses); those of
 * a rejected bundled section move to the first answered one, since browsers list the bundle's
 * candidates only in its first section.
 * @throws InvalidSdpError when the text is not a WebRTC offer
 * @throws NoUsableCodecError when no section can be answered
 */
export function planOffer(offerSdp: string, options: PlanOptions): OfferPlan {
  const sdp = parseSdp(offerSdp);
  requireTransportAttributes(sdp);
  const bundled = bundleMids(sdp.session);
  let videoPayloadType: number | undefined;
  let videoCodec: VideoCodec | undefined;
  let audioPayloadType: number | undefined;
  const offered: string[] = [];
  const sections: PlannedSection[] = [];
  const answered: MediaSection[] = [];
  const bundleCandidates: string[] = [];
  for (const section of sdp.media) {
    const maps = rtpmaps(section);
    offered.push(...maps.map((map) => `${section.kind}:${map.codec}`));
    const [, port, proto = '', format = ''] = section.lines[0]!.split(' ');
    const mid = section.lines.find((line) => line.startsWith('a=mid:'))?.slice('a=mid:'.length);
    const inBundle = mid !== undefined && bundled.has(mid);
    let chosen: number | undefined;
    if (
      port !== '0' &&
      section.kind === 'video' &&
      videoPayloadType === undefined &&
      options.hasVideo !== false
    ) {
      const video = chooseVideo(maps, options.videoCodecs ?? ['h264']);
      chosen = videoPayloadType = video?.payloadType;
      videoCodec = video?.codec;
    }
    if (port !== '0' && section.kind === 'audio' && audioPayloadType === undefined && options.hasAudio)
      chosen = audioPayloadType = chooseOpus(maps);
    const candidates = section.lines.filter(
      (line) => line.startsWith('a=candidate:') || line === 'a=end-of-candidates',
    );
    if (inBundle) bundleCandidates.push(...candidates);
    if (chosen === undefined) {
      if (inBundle) bundled.delete(mid ?? '');
      const rtpmap = section.lines.find((line) => line.startsWith(`a=rtpmap:${format} `));
      sections.push({ answered: false, kind: section.kind, proto, format, rtpmap, mid });
      continue;
    }
    section.lines = keepOnly(section, chosen).filter(
      (line) => !line.startsWith('a=candidate:') && line !== 'a=end-of-candidates',
    );
    if (!inBundle) section.lines.push(...admitted(candidates, options.candidates));
    sections.push({ answered: true });
    answered.push(section);
  }
  if (answered.length === 0) throw new NoUsableCodecError([...new Set(offered)]);
  const firstBundled = answered.find((section) => bundled.has(midOf(section) ?? ''));
  firstBundled?.lines.push(...admitted(bundleCandidates, options.candidates));
  sdp.session = sdp.session.map((line) =>
    line.startsWith('a=group:BUNDLE') ? ['a=group:BUNDLE', ...bundled].join(' ') : line,
  );
  sdp.media = answered;
  return { sdp: serialise(sdp), sections, videoPayloadType, videoCodec, audioPayloadType };
}

function midOf(section: MediaSection): string | undefined {
  return section.lines.find((line) => line.startsWith('a=mid:'))?.slice('a=mid:'.length);
}

/** The mids of the offer's BUNDLE group (RFC 8843 §7.1), in order. */
function bundleMids(session: string[]): Set<string> {
  const group = session.find((line) => line.startsWith('a=group:BUNDLE'));
  return new Set(group?.split(' ').slice(1).filter(Boolean) ?? []);
}

function admitted(lines: string[], gate: RemoteCandidateGate): string[] {
  const kept = lines.filter((line) => line === 'a=end-of-candidates' || gate.admit(line).admitted);
  // One end-of-candidates, after the candidates.
  const end = kept.includes('a=end-of-candidates');
  return [...kept.filter((line) => line !== 'a=end-of-candidates'), ...(end ? ['a=end-of-candidates'] : [])];
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

/**
 * A rejected m-section of the answer: port 0 (RFC 3264 §6), the offered proto and a format, the
 * offer's mid, outside the BUNDLE group (RFC 8843 §7.3.3), direction inactive, and the same
 * transport attributes as the answered sections so that strict parsers (Chromium's, Firefox's)
 * find everything an m-section of an answer carries (RFC 8829 §5.3.1).
 */
function rejectedAnswerSection(
  section: Extract<PlannedSection, { answered: false }>,
  transportLines: string[],
): string[] {
  const rtp = section.proto.includes('RTP');
  return [
    `m=${section.kind} 0 ${section.proto} ${section.format}`,
    'c=IN IP4 0.0.0.0',
    ...transportLines,
    ...(section.mid === undefined ? [] : [`a=mid:${section.mid}`]),
    ...(rtp ? ['a=inactive', 'a=rtcp-mux'] : []),
    ...(rtp && section.rtpmap ? [section.rtpmap] : []),
  ];
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
  /**
   * The congestion feedback the server honours for this peer: `remb` (an adaptive viewer: the
   * video section keeps the offer's `goog-remb`), `transport-cc` (a publisher whose arrivals the
   * server reports: the video section gets `transport-cc` and keeps the transport-wide-cc
   * extension) or `none`; either way the answer keeps only the feedback and extensions the server
   * acts on. Absent: the lines stay as werift wrote them.
   */
  congestionFeedback?: CongestionFeedback | undefined;
}

/** What an answer promises to send back about the peer's media, besides NACK and PLI. */
export type CongestionFeedback = 'remb' | 'transport-cc' | 'none';

/**
 * RTCP feedback and header extensions werift 0.25.2 echoes from the offer whatever it does with
 * them: the answer keeps only what the server honours (NACK and PLI always; REMB for an adaptive
 * viewer; transport-cc for a publisher). Promising transport-cc to a viewer would have Chromium
 * send feedback nobody reads, and stop its receive-side estimate, the one REMB mode uses.
 */
function honouredFeedback(line: string, kind: string, feedback: CongestionFeedback): boolean {
  const fb = /^a=rtcp-fb:\S+ (.*)$/.exec(line);
  if (fb) {
    const type = fb[1]!.trim().toLowerCase();
    if (type === 'goog-remb') return feedback === 'remb' && kind === 'video';
    return type === 'nack' || type === 'nack pli';
  }
  const extension = /^a=extmap:\d+(\/\w+)? \S*(transport-wide-cc|abs-send-time)/.exec(line);
  if (!extension) return true;
  return feedback === 'transport-cc' && kind === 'video' && extension[2] === 'transport-wide-cc';
}

/**
 * What werift's answer lacks for WHEP: the sections the plan rejected, back in the offer's order;
 * `a=rtcp-mux-only` in every bundled m-section (draft-ietf-wish-whep requires RTCP
 * multiplexing), one `msid` stream for both tracks, and only the candidates viewers should use.
 */
export function finishAnswer(
  answerSdp: string,
  plan: Pick<OfferPlan, 'sections'>,
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
      const feedback = options.congestionFeedback;
      if (feedback !== undefined && !honouredFeedback(line, section.kind, feedback)) continue;
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
      const rtpmap = /^a=rtpmap:(\d+) /.exec(line);
      if (rtpmap && options.congestionFeedback === 'transport-cc' && section.kind === 'video')
        lines.push(`a=rtcp-fb:${rtpmap[1]} transport-cc`);
      if (line === 'a=rtcp-mux' && !rejected) lines.push('a=rtcp-mux-only');
      if (line === 'a=sendonly' && sending)
        lines.push(`a=msid:${options.streamId} ${options.streamId}-${section.kind}`);
    }
    section.lines = lines;
  }
  sdp.media = withRejectedSections(sdp.media, plan.sections);
  return { sdp: serialise(sdp), candidates };
}

const transportAttributes = ['a=ice-ufrag:', 'a=ice-pwd:', 'a=fingerprint:', 'a=setup:'];

function withRejectedSections(answered: MediaSection[], planned: PlannedSection[]): MediaSection[] {
  if (answered.length !== planned.filter((section) => section.answered).length)
    throw new Error(`werift answered ${answered.length} m-sections, the plan expected another number`);
  const transportLines = (answered[0]?.lines ?? []).filter((line) =>
    transportAttributes.some((attribute) => line.startsWith(attribute)),
  );
  const next = answered.values();
  return planned.map((section) =>
    section.answered
      ? next.next().value!
      : { kind: section.kind, lines: rejectedAnswerSection(section, transportLines) },
  );
}
