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
/** RFC 5104 §4.3.1: the header's media SSRC is 0 and each entry names the SSRC it asks of. */
const fullIntraRequest = 4;

interface FeedbackShape {
  type?: unknown;
  feedback?: { count?: unknown; mediaSsrc?: unknown; fir?: { ssrc?: unknown }[] };
}

function asksForPicture(shape: FeedbackShape, mediaSsrc: number): boolean {
  const feedback = shape.feedback;
  if (shape.type !== payloadSpecificFeedback || feedback === undefined) return false;
  if (feedback.count === pictureLossIndication) return feedback.mediaSsrc === mediaSsrc;
  if (feedback.count === fullIntraRequest) {
    return Array.isArray(feedback.fir) && feedback.fir.some((entry) => entry.ssrc === mediaSsrc);
  }
  return false;
}

/**
 * Calls `listener` for every PLI the remote peer sends about `mediaSsrc`, and every FIR naming it
 * (answers do not offer `ccm fir`, but a peer that sends one anyway wants the same: a new picture).
 */
export function onPictureLoss(pc: RTCPeerConnection, mediaSsrc: number, listener: () => void): void {
  for (const transport of pc.dtlsTransports) {
    transport.onRtcp.subscribe((packet) => {
      if (asksForPicture(packet as unknown as FeedbackShape, mediaSsrc)) listener();
    });
  }
}
