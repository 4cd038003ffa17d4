import type { NativeAddon, NativeGroup, NativeStream } from './native-addon.js';
import type {
  OutputBackend,
  OutputGroup,
  OutputStream,
  OutputTarget,
  SocketHandle,
  StreamSpec,
} from './output.js';
import { SrtpProfile } from './srtp.js';

class NativeOutputStream implements OutputStream {
  readonly handle: NativeStream;
  readonly #addon: NativeAddon;
  readonly #fds: Map<number, number>;
  /** Set for transports written elsewhere (ICE-TCP, TURN): the SRTP packet is handed to it. */
  write: ((packet: Buffer) => void) | undefined;
  group: NativeOutputGroup | undefined;
  #closed = false;

  constructor(addon: NativeAddon, spec: StreamSpec, fds: Map<number, number>) {
    const { keys } = spec;
    this.#addon = addon;
    this.#fds = fds;
    this.handle = addon.createStream(
      keys.profile,
      keys.key,
      keys.salt,
      keys.profile === SrtpProfile.aesCm128HmacSha1_80 ? (keys.authKey ?? null) : null,
      spec.ssrc >>> 0,
      spec.payloadType,
    );
    addon.setCounters(this.handle, spec.counters, spec.offset);
  }

  setTarget(target: OutputTarget): void {
    const group = this.group;
    group?.delete(this);
    this.write = undefined;
    const fd = target.type === 'udp' ? this.#fds.get(target.socketId) : undefined;
    if (target.type === 'udp' && fd !== undefined) {
      this.#addon.setTarget(this.handle, fd, target.host, target.port, target.family);
    } else {
      this.#addon.setTarget(this.handle, -1, '0.0.0.0', 0, 4);
      if (target.type === 'writer') this.write = target.write;
    }
    if (group && !this.#closed) group.add(this);
  }

  send(packet: Buffer, ext: number): number {
    if (this.#closed) return 0;
    if (this.write) {
      const srtp = this.#addon.protect(this.handle, packet, ext);
      if (!srtp) return 0;
      this.write(srtp);
      return 1;
    }
    return this.#addon.send(this.handle, packet, ext);
  }

  setIndexBase(ext: number): void {
    this.#addon.indexBase(this.handle, ext);
  }

  setOffsets(seqOffset: number, tsOffset: number): void {
    this.#addon.setOffsets(this.handle, seqOffset, tsOffset);
  }

  close(): void {
    this.#closed = true;
    this.group?.delete(this);
    this.#addon.setTarget(this.handle, -1, '0.0.0.0', 0, 4);
    this.write = undefined;
  }
}

class NativeOutputGroup implements OutputGroup {
  readonly #addon: NativeAddon;
  readonly #group: NativeGroup;
  readonly #members = new Set<NativeOutputStream>();
  /** Members written by another thread: protected here, one by one. */
  readonly #writers = new Set<NativeOutputStream>();
  #writerSent = 0;

  constructor(addon: NativeAddon) {
    this.#addon = addon;
    this.#group = addon.createGroup();
  }

  add(stream: OutputStream): void {
    const member = stream as NativeOutputStream;
    member.group = this;
    this.#members.add(member);
    if (member.write) this.#writers.add(member);
    else this.#addon.groupAdd(this.#group, member.handle);
  }

  delete(stream: OutputStream): void {
    const member = stream as NativeOutputStream;
    if (member.group === this) member.group = undefined;
    this.#members.delete(member);
    this.#writers.delete(member);
    this.#addon.groupRemove(this.#group, member.handle);
  }

  enqueue(buffer: Buffer, length: number, ext: number): void {
    this.#addon.groupEnqueue(this.#group, buffer, length, ext);
    if (this.#writers.size === 0) return;
    const packet = buffer.subarray(0, length);
    for (const writer of this.#writers) this.#writerSent += writer.send(packet, ext);
  }

  flush(): number {
    const sent = this.#addon.groupFlush(this.#group) + this.#writerSent;
    this.#writerSent = 0;
    return sent;
  }

  get size(): number {
    return this.#members.size;
  }
}

/**
 * SRTP and sendmmsg(2) in the addon (native/send_path.cc): one flush sends the packets a source
 * delivered together to every viewer of the group, a viewer's run of them as one UDP GSO datagram.
 * Sockets are descriptors this backend owns (duplicates of the main thread's), so they stay valid
 * until it closes them, whatever happens to the originals.
 */
export class NativeOutputBackend implements OutputBackend {
  readonly kind = 'native';
  readonly #addon: NativeAddon;
  readonly #fds = new Map<number, number>();

  constructor(addon: NativeAddon) {
    this.#addon = addon;
  }

  createStream(spec: StreamSpec): OutputStream {
    return new NativeOutputStream(this.#addon, spec, this.#fds);
  }

  createGroup(): OutputGroup {
    return new NativeOutputGroup(this.#addon);
  }

  registerSocket(id: number, handle: SocketHandle): void {
    if (handle.fd === undefined) throw new TypeError('the native data plane sends through descriptors');
    const previous = this.#fds.get(id);
    if (previous !== undefined && previous !== handle.fd) this.#addon.close(previous);
    this.#fds.set(id, handle.fd);
  }

  forgetSocket(id: number): void {
    const fd = this.#fds.get(id);
    if (fd === undefined) return;
    this.#fds.delete(id);
    this.#addon.close(fd);
  }
}
