import { parseSdp } from './sdp-negotiation.js';

/** What a publisher's offer says about its simulcast video (RFC 8853, RFC 8851). */
export interface SimulcastOffer {
  /**
   * The rids of the layers it sends, in the order of its `a=simulcast:send` line (the publisher's
   * preference, RFC 8853 §5.1): at most {@link maxSimulcastLayers}; empty without simulcast.
   */
  rids: string[];
  /** The id of the `rtp-stream-id` header extension (RFC 8852) that names a packet's layer. */
  ridExtensionId: number | undefined;
}

/** Chromium sends three layers at most, OBS as many as configured: three renditions is the ladder. */
export const maxSimulcastLayers = 3;

const ridExtensionUri = 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';
/** RFC 8851 §10: rid-id is alphanumerics, `-` and `_`; 16 characters is what anyone sends. */
const ridPattern = /^[A-Za-z0-9_-]{1,16}$/;

/**
 * The simulcast layers of an offer's first video section. Two layers or more need the
 * `rtp-stream-id` extension (without it nothing tells one layer's packets from another's), so an
 * offer lacking it, or naming a layer it does not declare with `a=rid:<id> send`, is read as
 * sending one layer.
 * @throws InvalidSdpError when the text is not SDP
 */
export function readSimulcastOffer(offerSdp: string): SimulcastOffer {
  const video = parseSdp(offerSdp).media.find(
    (section) => section.kind === 'video' && section.lines[0]!.split(' ')[1] !== '0',
  );
  const none: SimulcastOffer = { rids: [], ridExtensionId: undefined };
  if (!video) return none;
  const declared = new Set(
    video.lines.flatMap((line) => {
      const match = /^a=rid:(\S+) send\b/.exec(line);
      return match ? [match[1]!] : [];
    }),
  );
  const simulcast = video.lines.find((line) => line.startsWith('a=simulcast:send '));
  const extension = video.lines.find((line) => line.endsWith(` ${ridExtensionUri}`));
  const ridExtensionId = extension ? Number(/^a=extmap:(\d+)/.exec(extension)?.[1]) : Number.NaN;
  if (!simulcast || !Number.isInteger(ridExtensionId)) return none;
  // `send q;h;f`: ';' separates layers, ',' alternatives of one (the first is taken), '~' a paused one.
  const rids = simulcast
    .slice('a=simulcast:send '.length)
    .split(' ')[0]!
    .split(';')
    .map((layer) => layer.split(',')[0]!.replace(/^~/, ''));
  if (rids.some((rid) => !ridPattern.test(rid) || !declared.has(rid)) || new Set(rids).size !== rids.length)
    return none;
  if (rids.length < 2) return none;
  return { rids: rids.slice(0, maxSimulcastLayers), ridExtensionId };
}
