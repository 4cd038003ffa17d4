// werift internals, checked against werift 0.25.2 (see checked-version.ts): `RTCRtpSender`'s private
// `cname` and its sender-report bookkeeping (`ntpTimestamp`, `rtpTimestamp`, `packetCount`,
// `octetCount`, `lastSRtimestamp`, `lastSentSRTimestamp`; `lib/webrtc/src/media/rtpSender.js`),
// which its `getStats()` and its round-trip time from receiver reports (RFC 3550 §6.4.1) read.
import type { RTCRtpSender } from 'werift';

interface SenderReportFields {
  cname?: unknown;
  ntpTimestamp: bigint;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  lastSRtimestamp?: number;
  lastSentSRTimestamp?: number;
}

/** The CNAME werift announced for this sender in the SDP (`a=ssrc:… cname:…`). */
export function senderCname(sender: RTCRtpSender): string | undefined {
  const cname = (sender as unknown as SenderReportFields).cname;
  return typeof cname === 'string' ? cname : undefined;
}

/**
 * Records a Sender Report sent for this sender's stream as werift's own report loop would: its
 * counters then show in `getStats()`, and the LSR echoed in the viewer's receiver reports matches,
 * so werift keeps measuring the round-trip time.
 */
export function recordSenderReport(
  sender: RTCRtpSender,
  report: { ntpTimestamp: bigint; rtpTimestamp: number; packetCount: number; octetCount: number },
  compactNtp: number,
  sentAtSeconds: number,
): void {
  const fields = sender as unknown as SenderReportFields;
  fields.ntpTimestamp = report.ntpTimestamp;
  fields.rtpTimestamp = report.rtpTimestamp;
  fields.packetCount = report.packetCount;
  fields.octetCount = report.octetCount;
  fields.lastSRtimestamp = compactNtp;
  fields.lastSentSRTimestamp = sentAtSeconds;
}
