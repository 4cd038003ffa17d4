import type { RTCPeerConnection } from 'werift';

// Checked against werift 0.25.2 (see checked-version.ts): its RTCP router hands a REMB to the
// sender of the first SSRC the REMB lists (`lib/webrtc/src/media/router.js`), which keeps the
// figure (`receiverEstimatedMaxBitrate`) and tells no one. Every parsed RTCP packet of a transport
// also reaches `dtlsTransport.onRtcp`, as a `RtcpPayloadSpecificFeedback` (206) whose `feedback`
// is a `ReceiverEstimatedMaxBitrate` (count 15) with a bigint `bitrate`: read REMBs there.
// Covered by test/adaptation.slow.test.ts (Chromium's REMB moves a capped viewer).

const payloadSpecificFeedback = 206;
const applicationLayerFeedback = 15;

interface RembShape {
  type?: unknown;
  feedback?: { count?: unknown; bitrate?: unknown };
}

/** Calls `listener` with the bit rate of every REMB the remote peer sends. */
export function onReceiverEstimate(pc: RTCPeerConnection, listener: (bps: number) => void): void {
  for (const transport of pc.dtlsTransports) {
    transport.onRtcp.subscribe((packet) => {
      const shape = packet as unknown as RembShape;
      const bitrate = shape.feedback?.bitrate;
      if (
        shape.type === payloadSpecificFeedback &&
        shape.feedback?.count === applicationLayerFeedback &&
        (typeof bitrate === 'bigint' || typeof bitrate === 'number')
      ) {
        listener(Number(bitrate));
      }
    });
  }
}
