import type { RTCPeerConnection } from 'werift';

// Checked against werift 0.25.2 (see checked-version.ts): its RTCP router hands a PLI to
// `ssrcTable[senderSsrc] || ssrcTable[mediaSsrc]` (`lib/webrtc/src/media/router.js`). A recvonly
// browser or werift viewer reports from the SSRC its offer announced, which the server's router
// has registered for its own receiver, so the PLI lands there and `RTCRtpSender.onPictureLossIndication`
// never fires. Every parsed RTCP packet of a transport also reaches `dtlsTransport.onRtcp`: read
// the PLIs there, by the media SSRC they are about (RFC 4585 §6.1). Covered by
// test/publisher.test.ts (a viewer's PLI reaches the publisher).

const payloadSpecificFeedback = 206;
const pictureLossIndication = 1;

interface FeedbackShape {
  type?: unknown;
  feedback?: { count?: unknown; mediaSsrc?: unknown };
}

/** Calls `listener` for every PLI the remote peer sends about `mediaSsrc`. */
export function onPictureLoss(pc: RTCPeerConnection, mediaSsrc: number, listener: () => void): void {
  for (const transport of pc.dtlsTransports) {
    transport.onRtcp.subscribe((packet) => {
      const shape = packet as unknown as FeedbackShape;
      if (
        shape.type === payloadSpecificFeedback &&
        shape.feedback?.count === pictureLossIndication &&
        shape.feedback.mediaSsrc === mediaSsrc
      ) {
        listener();
      }
    });
  }
}
