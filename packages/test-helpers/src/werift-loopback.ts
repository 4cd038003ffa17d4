import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';

/**
 * A werift peer on one loopback (or local) address with no STUN server, offering what a browser
 * offers: H.264 packetization-mode 1 with NACK and PLI, and Opus (werift offers VP8 only by default).
 */
export function loopbackPeerConnection(
  host: string,
  videoCodecs?: RTCRtpCodecParameters[],
): RTCPeerConnection {
  return new RTCPeerConnection({
    iceServers: [],
    iceInterfaceAddresses: { udp4: host },
    iceAdditionalHostAddresses: [host],
    iceFilterCandidatePair: (pair) => pair.remoteCandidate.host === host,
    codecs: {
      video: videoCodecs ?? [
        new RTCRtpCodecParameters({
          mimeType: 'video/H264',
          clockRate: 90_000,
          rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
          parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
        }),
      ],
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2 })],
    },
  });
}

/** Resolves once `pc` has gathered every candidate (its SDP is then complete, for non-trickle WHIP/WHEP). */
export function gathered(pc: RTCPeerConnection): Promise<void> {
  return new Promise<void>((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.iceGatheringStateChange.subscribe((state) => state === 'complete' && resolve());
  });
}

/**
 * Resolves true once ICE and DTLS are up, false once the connection failed or closed, or if it is
 * not up within `timeoutMs`.
 */
export function connectedWithin(pc: RTCPeerConnection, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const ended = (state: string) => state === 'failed' || state === 'closed';
    if (pc.connectionState === 'connected') return resolve(true);
    if (ended(pc.connectionState)) return resolve(false);
    const timer = setTimeout(() => {
      subscription.unSubscribe();
      resolve(false);
    }, timeoutMs);
    const subscription = pc.connectionStateChange.subscribe((state) => {
      if (state !== 'connected' && !ended(state)) return;
      clearTimeout(timer);
      subscription.unSubscribe();
      resolve(state === 'connected');
    });
  });
}
