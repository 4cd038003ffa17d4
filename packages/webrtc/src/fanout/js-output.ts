import type { Socket } from 'node:dgram';
import { rtpHeaderLength } from '../ingest/rtp-header.js';
import type {
  OutputBackend,
  OutputGroup,
  OutputStream,
  OutputTarget,
  SocketHandle,
  StreamSpec,
} from './output.js';
import { streamCounterFields } from './output.js';
import { JsSrtpStream } from './srtp.js';

// A send error (a vanished viewer's ICMP unreachable) must not become an 'error' event: one shared
// callback, so that no closure is made per packet.
const ignoreSendError = (): void => undefined;

class JsStream implements OutputStream {
  readonly #srtp: JsSrtpStream;
  readonly #sockets: Map<number, Socket>;
  readonly #counters: Float64Array;
  readonly #offset: number;
  #socket: Socket | undefined;
  #host = '';
  #port = 0;
  #write: ((packet: Buffer) => void) | undefined;
  #closed = false;

  constructor(spec: StreamSpec, sockets: Map<number, Socket>) {
    this.#srtp = new JsSrtpStream(spec.keys, spec.ssrc, spec.payloadType);
    this.#sockets = sockets;
    this.#counters = spec.counters;
    this.#offset = spec.offset;
  }

  setTarget(target: OutputTarget): void {
    this.#socket = undefined;
    this.#write = undefined;
    if (target.type === 'udp') {
      this.#socket = this.#sockets.get(target.socketId);
      this.#host = target.host;
      this.#port = target.port;
    } else if (target.type === 'writer') {
      this.#write = target.write;
    }
  }

  send(packet: Buffer, ext: number): number {
    if (this.#closed || (!this.#socket && !this.#write)) return 0;
    const srtp = this.#srtp.protect(packet, ext);
    if (!srtp) return 0;
    if (this.#socket) this.#socket.send(srtp, this.#port, this.#host, ignoreSendError);
    else this.#write!(srtp);
    const counters = this.#counters;
    const offset = this.#offset;
    counters[offset + streamCounterFields.packets]!++;
    counters[offset + streamCounterFields.payloadOctets]! += packet.length - rtpHeaderLength(packet);
    counters[offset + streamCounterFields.octets]! += packet.length;
    return 1;
  }

  setIndexBase(ext: number): void {
    this.#srtp.setIndexBase(ext);
  }

  setOffsets(seqOffset: number, tsOffset: number): void {
    this.#srtp.setOffsets(seqOffset, tsOffset);
  }

  close(): void {
    this.#closed = true;
    this.#socket = undefined;
    this.#write = undefined;
  }
}

class JsGroup implements OutputGroup {
  readonly #streams = new Set<OutputStream>();
  #sent = 0;

  add(stream: OutputStream): void {
    this.#streams.add(stream);
  }

  delete(stream: OutputStream): void {
    this.#streams.delete(stream);
  }

  /** dgram batches nothing: each packet is protected and sent at once. */
  enqueue(buffer: Buffer, length: number, ext: number): void {
    const packet = buffer.subarray(0, length);
    for (const stream of this.#streams) this.#sent += stream.send(packet, ext);
  }

  flush(): number {
    const sent = this.#sent;
    this.#sent = 0;
    return sent;
  }

  get size(): number {
    return this.#streams.size;
  }
}

/** SRTP with Node's crypto, datagrams with Node's dgram: runs in the thread that owns the sockets. */
export class JsOutputBackend implements OutputBackend {
  readonly kind = 'js';
  readonly #sockets = new Map<number, Socket>();

  createStream(spec: StreamSpec): OutputStream {
    return new JsStream(spec, this.#sockets);
  }

  createGroup(): OutputGroup {
    return new JsGroup();
  }

  registerSocket(id: number, handle: SocketHandle): void {
    if (!handle.socket) throw new TypeError('the JavaScript data plane sends through dgram sockets');
    this.#sockets.set(id, handle.socket);
  }

  forgetSocket(id: number): void {
    this.#sockets.delete(id);
  }
}
