import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import type { RtpPacket } from 'werift';
import type { TransportFeedbackWriter } from '../rtcp/twcc-feedback-writer.js';
import type { TrackKind } from './track-ingest.js';

/** Where one kind of a publisher's RTP goes: the payload type it arrives with, the port and type it leaves with. */
export interface ForwardRoute {
  /** The payload type negotiated with the publisher. */
  from: number;
  /** The source track's loopback port. */
  port: number;
  /** The payload type the source track expects. */
  payloadType: number;
}

/**
 * Simulcast video: each layer's packets go to its own rendition's port, told apart by the
 * `rtp-stream-id` header extension (RFC 8852) that a layer's first packets carry; its SSRC is
 * remembered from then on (Chromium stops sending the rid once its packets are acknowledged).
 */
export interface ForwardLayers {
  /** The layers' rids, in the order of `ports`. */
  rids: readonly string[];
  /** The port of each layer's rendition; `ForwardRoute.port` is unused. */
  ports: readonly number[];
  /** The negotiated id of the `rtp-stream-id` extension. */
  ridExtensionId: number;
}

/** Transport-wide congestion control (draft-holmer-rmcat-transport-wide-cc-extensions-01): arrivals recorded. */
export interface ForwardTransportWide {
  /** The negotiated id of the transport-wide sequence number extension. */
  extensionId: number;
  /** Where each packet's sequence number and arrival time go. */
  writer: TransportFeedbackWriter;
}

export interface ForwarderStats {
  packets: number;
  bytes: number;
  /**
   * Padding-only packets (bandwidth probes), packets of a payload type not negotiated, and
   * simulcast packets of no known layer.
   */
  dropped: number;
}

const ignoreSendError = (): void => undefined;

/**
 * Hands a publisher's decrypted RTP to an {@link RtpSource} the way an FFmpeg leg does: as RTP
 * datagrams to the source's loopback ports. Everything after that is the FFmpeg-leg path,
 * unchanged — loopback and payload-type checks, `RtpContinuity` (a reconnecting publisher is a new
 * SSRC with new bases, exactly an FFmpeg restart), the keyframe cache, the NACK history, fan-out —
 * so a publication needs no new entry into the data plane and its viewers keep their sessions
 * across publisher reconnects.
 *
 * Each packet leaves with a 12-byte header: the publisher's header extensions carry ids negotiated
 * with the publisher, which mean something else (or nothing) to each viewer, so they are dropped,
 * as are CSRCs and padding; the payload type becomes the source track's.
 */
export class PublicationForwarder {
  readonly #socket: Socket;
  readonly #routes: { video: ForwardRoute | undefined; audio: ForwardRoute | undefined };
  readonly #layers: ForwardLayers | undefined;
  readonly #transportWide: ForwardTransportWide | undefined;
  /** Layer index per SSRC, for simulcast: as many entries as layers at most. */
  readonly #layerBySsrc = new Map<number, number>();
  readonly #stats: ForwarderStats = { packets: 0, bytes: 0, dropped: 0 };
  /** The publisher's current video SSRC per layer (one without simulcast): where keyframe requests go. */
  readonly videoSsrcs: number[] = [];
  /**
   * A video SSRC of the publisher's, whichever layer sent first: what transport-wide feedback
   * names. Chromium starts a simulcast publication with its lowest layer only, and raises the
   * others only once feedback lets its estimate grow.
   */
  get feedbackSsrc(): number | undefined {
    for (const ssrc of this.videoSsrcs) if (ssrc !== undefined) return ssrc;
    return undefined;
  }

  /** When the last media packet arrived (ms since the epoch). */
  lastMediaAt: number | undefined;
  #closed = false;

  private constructor(
    socket: Socket,
    routes: Partial<Record<TrackKind, ForwardRoute>>,
    layers: ForwardLayers | undefined,
    transportWide: ForwardTransportWide | undefined,
  ) {
    this.#socket = socket;
    this.#routes = { video: routes.video, audio: routes.audio };
    this.#layers = layers;
    this.#transportWide = transportWide;
  }

  /** Binds the sending socket on loopback (the source accepts nothing else). */
  static open(
    routes: Partial<Record<TrackKind, ForwardRoute>>,
    layers?: ForwardLayers,
    transportWide?: ForwardTransportWide,
  ): Promise<PublicationForwarder> {
    return new Promise((resolve, reject) => {
      const socket = createSocket('udp4');
      socket.once('error', reject);
      socket.bind(0, '127.0.0.1', () => {
        socket.off('error', reject);
        // A send that fails (the source closed its port) is the source's business, not ours.
        socket.on('error', ignoreSendError);
        resolve(new PublicationForwarder(socket, routes, layers, transportWide));
      });
    });
  }

  /**
   * Per packet, on the main thread: no logging, one small pooled allocation (and, for a simulcast
   * packet of an SSRC not seen yet, the lookup of its rid).
   */
  forward(packet: RtpPacket): void {
    if (this.#closed) return;
    const header = packet.header;
    const payload = packet.payload;
    // Every packet that carries a transport-wide number is reported, probes and all: the
    // publisher's estimator counts its padding as sent bytes.
    const transportWide = this.#transportWide;
    if (transportWide !== undefined) {
      const extensions = header.extensions;
      for (let index = 0; index < extensions.length; index++) {
        const extension = extensions[index]!;
        if (extension.id === transportWide.extensionId && extension.payload.length >= 2) {
          transportWide.writer.onPacket(extension.payload.readUInt16BE(0), performance.now() * 1000);
          break;
        }
      }
    }
    const video = this.#routes.video;
    const audio = this.#routes.audio;
    const route =
      video !== undefined && header.payloadType === video.from
        ? video
        : audio !== undefined && header.payloadType === audio.from
          ? audio
          : undefined;
    // Chromium probes bandwidth with padding-only packets on the media SSRC when it has no RTX.
    if (route === undefined || payload.length === 0) {
      this.#stats.dropped += 1;
      return;
    }
    let port = route.port;
    if (route === video) {
      const layer = this.#layers === undefined ? 0 : this.#layerOf(packet);
      if (layer < 0) {
        this.#stats.dropped += 1;
        return;
      }
      if (this.#layers !== undefined) port = this.#layers.ports[layer]!;
      this.videoSsrcs[layer] = header.ssrc;
    }
    this.lastMediaAt = Date.now();
    // A fresh buffer per packet (Node's pool makes it cheap): dgram may still hold a sent buffer
    // when the socket's queue is not empty, so one reused buffer could be overwritten under it.
    const out = Buffer.allocUnsafe(12 + payload.length);
    out[0] = 0x80;
    out[1] = (header.marker ? 0x80 : 0) | route.payloadType;
    out.writeUInt16BE(header.sequenceNumber, 2);
    out.writeUInt32BE(header.timestamp >>> 0, 4);
    out.writeUInt32BE(header.ssrc >>> 0, 8);
    out.set(payload, 12);
    this.#stats.packets += 1;
    this.#stats.bytes += out.length;
    this.#socket.send(out, port, '127.0.0.1', ignoreSendError);
  }

  /**
   * The simulcast layer of a video packet: remembered by SSRC, else read from its rid (then
   * remembered: a layer's new SSRC, after an encoder restart, replaces its old one); -1 for none.
   */
  #layerOf(packet: RtpPacket): number {
    const ssrc = packet.header.ssrc;
    const known = this.#layerBySsrc.get(ssrc);
    if (known !== undefined) return known;
    const layers = this.#layers!;
    const extension = packet.header.extensions.find(({ id }) => id === layers.ridExtensionId);
    const layer = extension === undefined ? -1 : layers.rids.indexOf(extension.payload.toString('latin1'));
    if (layer < 0) return -1;
    const previous = this.videoSsrcs[layer];
    if (previous !== undefined) this.#layerBySsrc.delete(previous);
    this.#layerBySsrc.set(ssrc, layer);
    return layer;
  }

  stats(): ForwarderStats {
    return { ...this.#stats };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket.close();
  }
}
