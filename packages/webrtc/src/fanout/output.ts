import type { Socket } from 'node:dgram';
import type { SrtpSessionKeys } from './srtp.js';

/**
 * Where one viewer's SRTP goes: a UDP socket (the shared mux socket or werift's socket for that
 * peer, known to the shard by id) and the viewer's address on the selected ICE pair; or a writer for
 * transports that must be written by werift on the main thread (ICE-TCP framing, TURN); or nowhere
 * yet.
 */
export type OutputTarget =
  | { type: 'udp'; socketId: number; host: string; port: number; family: 4 | 6 }
  | { type: 'writer'; write: (packet: Buffer) => void }
  | { type: 'none' };

/** A UDP socket as the shard's backend needs it: the object (JS) or a descriptor it owns (native). */
export interface SocketHandle {
  socket?: Socket;
  fd?: number;
}

/**
 * Per stream: `[packets, payload octets, packet octets, retransmitted packets, dropped packets,
 * index base, seq offset, ts offset, rendition, paused at ext, paused at timestamp, estimate,
 * switches, loss]` (the first two are RFC 3550 §6.4.1's sender info), added to by the shard, read by the
 * viewer's owner. Dropped: packets of the stream the kernel would not take in time (the native
 * plane's send deadline, native/send_path.h) or refused; the JavaScript plane leaves queueing to
 * libuv. The index base is 1 + the extended sequence number the stream's SRTP rollover counter
 * counts from (the first packet sent to it; 0 before), kept here so that a shard made again after
 * its worker died protects the viewer's packets with the rollover counter the viewer expects.
 */
export const streamCounterCount = 14;
export const streamCounterFields = {
  packets: 0,
  payloadOctets: 1,
  octets: 2,
  retransmitted: 3,
  dropped: 4,
  indexBase: 5,
  /**
   * The stream's output space (`OutputStream.setOffsets`) and the rendition it is sent (video; -1:
   * paused, audio only), written by the shard when it moves the viewer: Sender Reports map the
   * current rendition's clock with them, and a shard made again goes on with them.
   */
  seqOffset: 6,
  tsOffset: 7,
  rendition: 8,
  /** While paused: 1 + the output ext and the timestamp of the last video packet sent (0: none). */
  pausedOutExt: 9,
  pausedOutTs: 10,
  /**
   * An adaptive viewer's video: its congestion control's estimate (bit/s), its switches so far and
   * the fraction of its packets lost over the last second (what the listing and metrics show).
   */
  estimateBps: 11,
  switches: 12,
  loss: 13,
} as const;

export interface StreamSpec {
  keys: SrtpSessionKeys;
  ssrc: number;
  payloadType: number;
  counters: Float64Array;
  /** Index of this stream's first counter in `counters`. */
  offset: number;
}

/** One viewer's track: its SRTP state and target. */
export interface OutputStream {
  setTarget(target: OutputTarget): void;
  /** Protects and sends one packet of the source (sequence number = low 16 bits of `ext`); 1 if sent. */
  send(packet: Buffer, ext: number): number;
  /**
   * The SRTP rollover counter counts from `ext`'s block of 65536 (RFC 3711 §3.3.1), as if `ext` had
   * been the first packet sent; without it the first packet sent sets it.
   */
  setIndexBase(ext: number): void;
  /**
   * The viewer's output space from the next packet on (a viewer moved between renditions): packet
   * `ext` leaves with sequence number and ROC of `ext + seqOffset` and timestamp `+ tsOffset`;
   * `setIndexBase` then takes output-space numbers. Both 0 unless the viewer moved.
   */
  setOffsets(seqOffset: number, tsOffset: number): void;
  close(): void;
}

/**
 * The streams of one source track in one shard: every packet goes to all of them. Packets that
 * arrived together (a frame) are queued and flushed at once, so a backend can hand a viewer's run of
 * packets to the kernel in one go.
 */
export interface OutputGroup {
  add(stream: OutputStream): void;
  delete(stream: OutputStream): void;
  /** Queues `buffer[0, length)` (copied or sent before returning: the buffer may be reused). */
  enqueue(buffer: Buffer, length: number, ext: number): void;
  /** Sends what was queued; returns how many datagrams were handed out since the last flush. */
  flush(): number;
  readonly size: number;
}

/** How packets become SRTP datagrams: the native addon, or Node's crypto and dgram. */
export interface OutputBackend {
  readonly kind: 'native' | 'js';
  createStream(spec: StreamSpec): OutputStream;
  createGroup(): OutputGroup;
  registerSocket(id: number, handle: SocketHandle): void;
  /** The socket is no longer a target of any stream here (the backend closes its descriptor). */
  forgetSocket(id: number): void;
}
