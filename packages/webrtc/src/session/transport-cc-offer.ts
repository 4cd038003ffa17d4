import { parseSdp } from './sdp-negotiation.js';

const transportWideCcUri = 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01';

/**
 * The id of the transport-wide sequence number extension in an offer's first video section, when
 * the offer also asks for `transport-cc` feedback on its video (what Chromium's send-side
 * estimator runs on, and the only feedback that lets it raise its rate); undefined otherwise.
 * @throws InvalidSdpError when the text is not SDP
 */
export function transportCcExtensionId(offerSdp: string): number | undefined {
  const video = parseSdp(offerSdp).media.find(
    (section) => section.kind === 'video' && section.lines[0]!.split(' ')[1] !== '0',
  );
  if (!video?.lines.some((line) => /^a=rtcp-fb:\S+ transport-cc\s*$/.test(line))) return undefined;
  const extension = video.lines.find((line) => line.endsWith(` ${transportWideCcUri}`));
  const id = Number(/^a=extmap:(\d+)[ /]/.exec(extension ?? '')?.[1]);
  // One-byte header ids are 1–14, two-byte ones up to 255 (RFC 8285 §4.2, §4.3).
  return Number.isInteger(id) && id >= 1 && id <= 255 ? id : undefined;
}

/**
 * The offer without its `transport-cc` feedback lines, for werift: werift 0.25.2 starts its own
 * receiver-side feedback for any codec that lists it, and that feedback held Chromium's estimate at
 * 301 kbit/s (measured); the server writes its own (`TransportFeedbackWriter`) and puts the line
 * back into the answer.
 */
export function withoutTransportCc(offerSdp: string): string {
  return offerSdp
    .split('\r\n')
    .filter((line) => !/^a=rtcp-fb:\S+ transport-cc\s*$/.test(line))
    .join('\r\n');
}
