import { createSocket, type Socket } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { isIP } from 'node:net';
import { isLoopbackAddress } from '@dragon/portalloc';
import { iceGatheringComplete, useKeyObjectsForSrtp, withoutDefaultStunServer } from '@dragon/webrtc/werift';
import { RTCPeerConnection, RTCRtpCodecParameters, type RTCRtpReceiver, type RtpPacket } from 'werift';
import { EdgePullError } from './errors.js';

/**
 * The payload types an edge asks its origin for. The origin's peers send with the viewer's payload
 * types, so these are what arrive and what the edge's own source checks for.
 */
export const pullPayloadTypes = { video: 96, audio: 111 } as const;

export interface EdgePullOptions {
  processId: string;
  /** The origin's WHEP endpoint, absolute: `http://origin:8080/api/v3/process/cam/whep`. */
  endpoint: string;
  /**
   * Bearer token for the origin's WHEP endpoint, if the process needs one. The pull is a viewer like
   * any other: it carries no node token, so it has nothing an origin could replay against the API.
   */
  token?: string | undefined;
  /** The edge source's loopback ports the media is forwarded to. */
  videoPort: number;
  audioPort?: number | undefined;
  /** Addresses ICE gathers on, as the node's viewers' (`webrtc.interfaces`); empty for all. */
  interfaces: readonly string[];
  /** How long the WHEP exchange and ICE/DTLS may take. @default 10000 */
  connectTimeoutMs?: number;
}

/**
 * At most one keyframe request upstream per this interval: every viewer of the edge that loses its
 * picture asks, and the origin's answer (a keyframe from its publisher or its FFmpeg's next GOP)
 * serves them all. The same bound the origin puts on its requests to a WHIP publisher.
 */
const keyframeRequestIntervalMs = 500;

const h264 = () =>
  new RTCRtpCodecParameters({
    mimeType: 'video/H264',
    clockRate: 90_000,
    payloadType: pullPayloadTypes.video,
    rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }],
    parameters: 'level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f',
  });
const opus = () =>
  new RTCRtpCodecParameters({
    mimeType: 'audio/opus',
    clockRate: 48_000,
    channels: 2,
    payloadType: pullPayloadTypes.audio,
  });

/**
 * One edge's pull of one process: a WHEP viewer of the origin (werift, recvonly H.264 + Opus) whose
 * every RTP packet is forwarded over loopback UDP into the edge's own source, which then treats it as
 * it treats FFmpeg's legs on an origin (validation, continuity across re-pulls, keyframe cache).
 */
export class EdgePull extends EventEmitter<{ closed: [reason: string] }> {
  /** The origin's session URL, for the DELETE when the pull ends. */
  readonly sessionUrl: string;
  readonly #pc: RTCPeerConnection;
  readonly #socket: Socket;
  readonly #headers: Record<string, string>;
  #lastPacketAt = Date.now();
  #lastKeyframeRequestAt = Number.NEGATIVE_INFINITY;
  #keyframeRequests = 0;
  #closed = false;

  private constructor(
    pc: RTCPeerConnection,
    socket: Socket,
    sessionUrl: string,
    headers: Record<string, string>,
  ) {
    super();
    this.sessionUrl = sessionUrl;
    this.#pc = pc;
    this.#socket = socket;
    this.#headers = headers;
    pc.connectionStateChange.subscribe((state) => {
      if (state === 'failed' || state === 'closed') void this.close(`ice ${state}`);
    });
  }

  /**
   * Offers to the origin and resolves once ICE and DTLS are up.
   * @throws EdgePullError when the origin refuses (any status but 201) or the connection does not come up.
   */
  static async open(options: EdgePullOptions): Promise<EdgePull> {
    const timeoutMs = options.connectTimeoutMs ?? 10_000;
    const socket = await loopbackSender();
    const pc = new RTCPeerConnection(peerConfig(options.interfaces));
    const forward: { pull?: EdgePull } = {};
    pc.onTrack.subscribe((track) => {
      const port = track.kind === 'video' ? options.videoPort : options.audioPort;
      if (port === undefined) return;
      track.onReceiveRtp.subscribe((packet) => forward.pull?.forward(packet, port));
    });
    const headers: Record<string, string> = options.token ? { Authorization: `Bearer ${options.token}` } : {};
    try {
      pc.addTransceiver('video', { direction: 'recvonly' });
      if (options.audioPort !== undefined) pc.addTransceiver('audio', { direction: 'recvonly' });
      withoutDefaultStunServer(pc);
      await pc.setLocalDescription(await pc.createOffer());
      await iceGatheringComplete(pc, 5000);
      const response = await fetch(options.endpoint, {
        method: 'POST',
        headers: { ...headers, 'Content-Type': 'application/sdp' },
        body: pc.localDescription?.sdp ?? '',
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      const answer = await response.text();
      if (response.status !== 201) {
        throw new EdgePullError(
          options.processId,
          options.endpoint,
          `the origin answered ${response.status}`,
        );
      }
      const location = response.headers.get('Location');
      if (!location)
        throw new EdgePullError(options.processId, options.endpoint, 'no Location in the answer');
      const sessionUrl = new URL(location, options.endpoint);
      // The DELETE that ends the pull carries the viewer token: it goes to the origin it was offered
      // to, never to wherever an answer points.
      if (sessionUrl.origin !== new URL(options.endpoint).origin) {
        throw new EdgePullError(
          options.processId,
          options.endpoint,
          `a session on another origin (${sessionUrl.origin})`,
        );
      }
      const pull = new EdgePull(pc, socket, sessionUrl.toString(), headers);
      forward.pull = pull;
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
      if (!(await connected(pc, timeoutMs))) {
        throw new EdgePullError(options.processId, options.endpoint, 'ICE/DTLS did not connect');
      }
      useKeyObjectsForSrtp(pc);
      return pull;
    } catch (error) {
      // Once the pull exists it owns socket and connection (and has an origin session to delete).
      if (forward.pull) await forward.pull.close('failed to connect');
      else {
        socket.close();
        await pc.close().catch(() => undefined);
      }
      if (error instanceof EdgePullError) throw error;
      throw new EdgePullError(options.processId, options.endpoint, (error as Error).message, {
        cause: error,
      });
    }
  }

  /** When the last packet arrived from the origin (the open time before the first). */
  get lastPacketAt(): number {
    return this.#lastPacketAt;
  }

  /**
   * Hot path: one call per packet. werift hands each packet over already decrypted and parsed, and
   * keeps no wire copy: serialising it again is the one allocation per packet an edge adds.
   */
  forward(packet: RtpPacket, port: number): void {
    if (this.#closed) return;
    this.#lastPacketAt = Date.now();
    this.#socket.send(packet.serialize(), port, '127.0.0.1');
  }

  /** Keyframe requests sent to the origin so far. */
  get keyframeRequests(): number {
    return this.#keyframeRequests;
  }

  /**
   * Asks the origin for a keyframe (a PLI about the video it sends), as a viewer of the edge asked
   * the edge: the edge's cache holds only what the origin sent, so only the origin can make a new
   * one. Returns whether a request went out: none before the origin's video is known, after close, or within
   * {@link keyframeRequestIntervalMs} of the last one.
   */
  requestKeyframe(now = Date.now()): boolean {
    if (this.#closed || now - this.#lastKeyframeRequestAt < keyframeRequestIntervalMs) return false;
    const video = this.#pulledVideo();
    if (video === undefined) return false;
    this.#lastKeyframeRequestAt = now;
    this.#keyframeRequests += 1;
    // werift catches and logs a failed send itself; the promise never rejects.
    void video.receiver.sendRtcpPLI(video.ssrc);
    return true;
  }

  /** The origin's video as received: the receiver a PLI goes through and the SSRC it is about. */
  #pulledVideo(): { receiver: RTCRtpReceiver; ssrc: number } | undefined {
    const receiver = this.#pc.getTransceivers().find((t) => t.kind === 'video')?.receiver;
    const ssrc = receiver?.tracks.find((track) => track.ssrc !== undefined)?.ssrc;
    return receiver && ssrc !== undefined ? { receiver, ssrc } : undefined;
  }

  /** Ends the pull: the origin's session is deleted (best effort) and the connection closed. Safe twice. */
  async close(reason = 'closed'): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
    // WHEP §4.3: the session is ended with a DELETE; an origin that is gone drops it by itself.
    const deleted = fetch(this.sessionUrl, {
      method: 'DELETE',
      headers: this.#headers,
      signal: AbortSignal.timeout(2000),
    }).then(
      (response) => response.body?.cancel(),
      () => undefined,
    );
    await Promise.all([deleted, this.#pc.close().catch(() => undefined)]);
    this.emit('closed', reason);
  }
}

/** ICE as the node's viewers get it: the configured interfaces, no STUN server, loopback pairs only on loopback. */
function peerConfig(interfaces: readonly string[]): ConstructorParameters<typeof RTCPeerConnection>[0] {
  const v4 = interfaces.find((address) => isIP(address) === 4);
  const v6 = interfaces.find((address) => isIP(address) === 6);
  const loopbackOnly = interfaces.length > 0 && interfaces.every(isLoopbackAddress);
  return {
    codecs: { video: [h264()], audio: [opus()] },
    iceServers: [],
    iceUseIpv6: v6 !== undefined,
    ...(interfaces.length > 0
      ? {
          iceInterfaceAddresses: { ...(v4 ? { udp4: v4 } : {}), ...(v6 ? { udp6: v6 } : {}) },
          iceAdditionalHostAddresses: [...interfaces],
        }
      : {}),
    ...(loopbackOnly
      ? { iceFilterCandidatePair: (pair) => isLoopbackAddress(pair.remoteCandidate.host) }
      : {}),
  };
}

function loopbackSender(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    // Only sends, from an ephemeral loopback port: the edge source accepts loopback senders only.
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      // A full loopback buffer (the source gone) must not crash the node.
      socket.on('error', () => undefined);
      resolve(socket);
    });
  });
}

function connected(pc: RTCPeerConnection, timeoutMs: number): Promise<boolean> {
  if (pc.connectionState === 'connected') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      subscription.unSubscribe();
      resolve(false);
    }, timeoutMs);
    const subscription = pc.connectionStateChange.subscribe((state) => {
      if (state !== 'connected' && state !== 'failed' && state !== 'closed') return;
      clearTimeout(timer);
      subscription.unSubscribe();
      resolve(state === 'connected');
    });
  });
}
