import type { RTCPeerConnection, RTCRtpSender } from 'werift';
import type { TrackKind } from '../ingest/track-ingest.js';
import type { OfferPlan } from './sdp-negotiation.js';

/**
 * Turns the first video and the first audio transceiver of an offer the plan answers into
 * sendonly senders, and returns them. They get no `MediaStreamTrack`: the data plane sends the
 * RTP, so werift's sender only carries the SSRC and codec into the answer and handles the viewer's
 * RTCP, none of which reads a track. A track per sender cost each viewer two werift tracks and
 * their event subscriptions (≈ 9 KiB of JS heap, measured with `bench/memory.mjs`).
 */
export function sendonlySenders(
  pc: RTCPeerConnection,
  plan: Pick<OfferPlan, 'videoPayloadType' | 'audioPayloadType'>,
): Partial<Record<TrackKind, RTCRtpSender>> {
  const senders: Partial<Record<TrackKind, RTCRtpSender>> = {};
  for (const transceiver of pc.getTransceivers()) {
    const kind = transceiver.kind;
    if (kind !== 'video' && kind !== 'audio') continue;
    const payloadType = kind === 'video' ? plan.videoPayloadType : plan.audioPayloadType;
    if (payloadType === undefined || senders[kind]) continue;
    transceiver.setDirection('sendonly');
    senders[kind] = transceiver.sender;
  }
  return senders;
}
