import type { Socket } from 'node:dgram';
import { type Lane, WorkerLane } from './lanes.js';
import type { NativeAddon } from './native-addon.js';
import type { ViewerTarget } from './plane-handles.js';
import type { ShardTarget } from './shard-protocol.js';
import { socketFd } from './socket-fd.js';

/**
 * Where the plane's viewers are sent to, as each shard takes it: a UDP socket is registered with a
 * shard once, while any of its viewers sends through it (as a descriptor the shard owns, for the
 * native backend); a writer (ICE-TCP, TURN) stays in the plane's thread and a worker relays the
 * viewer's SRTP to it.
 */
export class ViewerTargets {
  readonly #addon: NativeAddon | undefined;
  readonly #nextId: () => number;
  readonly #socketIds = new Map<Socket, number>();
  readonly #writers = new Map<number, (packet: Buffer) => void>();

  /** `nextId` hands out socket ids, from the plane's one key space. */
  constructor(addon: NativeAddon | undefined, nextId: () => number) {
    this.#addon = addon;
    this.#nextId = nextId;
  }

  /** A worker relayed a viewer's SRTP packet: to its writer. */
  relay(viewerKey: number, packet: Buffer): void {
    this.#writers.get(viewerKey)?.(packet);
  }

  /** The viewer's target as its shard takes it, registering a UDP socket with that shard on first use. */
  use(
    lane: Lane,
    viewerKey: number,
    target: ViewerTarget,
  ): { shard: ShardTarget; socketId: number | undefined } {
    this.#writers.delete(viewerKey);
    if (target.type === 'none') return { shard: target, socketId: undefined };
    if (target.type === 'writer') {
      if (!lane.relays) return { shard: target, socketId: undefined };
      this.#writers.set(viewerKey, target.write);
      return { shard: { type: 'relay' }, socketId: undefined };
    }
    const socket = target.socket;
    let socketId = this.#socketIds.get(socket);
    if (socketId === undefined) {
      socketId = this.#nextId();
      this.#socketIds.set(socket, socketId);
      socket.once('close', () => this.#socketIds.delete(socket));
    }
    const users = lane.socketUsers.get(socketId) ?? 0;
    if (users === 0) this.#register(lane, socketId, socket);
    lane.socketUsers.set(socketId, users + 1);
    const shard: ShardTarget = {
      type: 'udp',
      socketId,
      host: target.host,
      port: target.port,
      family: socket.address().family === 'IPv6' ? 6 : 4,
    };
    return { shard, socketId };
  }

  /** One viewer less sends through socket `socketId` on `lane`; the last one lets the shard forget it. */
  release(lane: Lane, socketId: number | undefined): void {
    if (socketId === undefined) return;
    const users = (lane.socketUsers.get(socketId) ?? 1) - 1;
    if (users > 0) {
      lane.socketUsers.set(socketId, users);
      return;
    }
    lane.socketUsers.delete(socketId);
    if (lane instanceof WorkerLane) lane.socketFds.delete(socketId);
    lane.send({ type: 'forgetSocket', id: socketId });
  }

  /** The viewer is gone: its writer too. */
  forget(viewerKey: number): void {
    this.#writers.delete(viewerKey);
  }

  #register(lane: Lane, socketId: number, socket: Socket): void {
    // A lane whose worker died is given its sockets again with the new worker.
    if (!lane.running) return;
    if (!this.#addon) {
      lane.send({ type: 'registerSocket', id: socketId, handle: { socket } });
      return;
    }
    // The native backend sends on a duplicate it owns: valid until it lets go, whatever happens to
    // the original. A descriptor that cannot be read (-1) gets no media; the viewer is reaped.
    const fd = socketFd(socket);
    const copy = fd === undefined ? -1 : this.#addon.dup(fd);
    if (lane instanceof WorkerLane && copy >= 0) lane.socketFds.set(socketId, copy);
    lane.send({ type: 'registerSocket', id: socketId, handle: { fd: copy } });
  }
}
