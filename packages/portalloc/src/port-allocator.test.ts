import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { PortAllocatorClosedError, PortLeaseStateError, PortRangeExhaustedError } from './errors.js';
import { PortAllocator } from './port-allocator.js';

const allocators: PortAllocator[] = [];
function track(allocator: PortAllocator): PortAllocator {
  allocators.push(allocator);
  return allocator;
}
afterEach(() => {
  for (const allocator of allocators.splice(0)) allocator.close();
});

async function receivesOn(socket: Socket, port: number): Promise<string> {
  const sender = createSocket('udp4');
  const received = once(socket, 'message');
  sender.send('hello', port, '127.0.0.1');
  const [message] = (await received) as [Buffer];
  sender.close();
  return message.toString();
}

/** Finds a block of free ports by binding them, so range tests do not collide with other programs. */
async function freeRange(size: number): Promise<{ min: number; max: number }> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const min = 40000 + Math.floor(Math.random() * 20000);
    const sockets = await Promise.allSettled(
      Array.from({ length: size }, (_, i) => {
        const socket = createSocket('udp4');
        return new Promise<Socket>((resolve, reject) => {
          socket.once('error', reject);
          socket.bind(min + i, '127.0.0.1', () => resolve(socket));
        });
      }),
    );
    for (const result of sockets) if (result.status === 'fulfilled') result.value.close();
    if (sockets.every((result) => result.status === 'fulfilled')) return { min, max: min + size - 1 };
  }
  throw new Error('no free port block found for the test');
}

describe('PortAllocator', () => {
  it('hands out 1,000 concurrent ports with no duplicates, each usable by its owner', async () => {
    const allocator = track(new PortAllocator());
    const leases = await Promise.all(Array.from({ length: 1000 }, () => allocator.allocate()));
    const ports = leases.map((lease) => lease.port);
    expect(new Set(ports).size).toBe(1000);
    expect(allocator.reservedCount).toBe(1000);

    // Every owner can use its port: sample across the set, send a datagram and receive it.
    for (const lease of leases.filter((_, index) => index % 50 === 0)) {
      const socket = lease.ports[0]!.takeSocket();
      await expect(receivesOn(socket, lease.port)).resolves.toBe('hello');
      socket.close();
    }
    for (const lease of leases) lease.release();
    expect(allocator.reservedCount).toBe(0);
  });

  it('lets an owner rebind a port after releasing its lease', async () => {
    const allocator = track(new PortAllocator());
    const lease = await allocator.allocate();
    lease.release();
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(lease.port, '127.0.0.1', () => resolve());
    });
    socket.close();
  });

  it('allocates an RTP pair as video on an even port and audio on the next', async () => {
    const allocator = track(new PortAllocator());
    const pair = await allocator.allocateRtpPair();
    expect(pair.video.port % 2).toBe(0);
    expect(pair.audio.port).toBe(pair.video.port + 1);
    const video = pair.video.takeSocket();
    const audio = pair.audio.takeSocket();
    await expect(receivesOn(audio, pair.audio.port)).resolves.toBe('hello');
    video.close();
    audio.close();
    pair.release();
  });

  it('gives a process with renditions one more adjacent port per rendition, all released together', async () => {
    const allocator = track(new PortAllocator());
    const set = await allocator.allocateRtpPorts(3);
    expect(set.video.port % 2).toBe(0);
    expect([set.audio, ...set.renditions].map((leased) => leased.port - set.video.port)).toEqual([
      1, 2, 3, 4,
    ]);
    const rendition = set.renditions[2]!.takeSocket();
    await expect(receivesOn(rendition, set.renditions[2]!.port)).resolves.toBe('hello');
    rendition.close();
    expect(allocator.reservedCount).toBe(5);
    set.release();
    expect(allocator.reservedCount).toBe(0);
    await expect(allocator.allocateRtpPorts(15)).rejects.toBeInstanceOf(RangeError);
  });

  it('throws a typed error when the range is exhausted, and reuses a port once released', async () => {
    const range = await freeRange(4);
    const allocator = track(new PortAllocator({ range }));
    const leases = await Promise.all([1, 2, 3, 4].map(() => allocator.allocate()));
    expect(new Set(leases.map((lease) => lease.port))).toEqual(
      new Set([range.min, range.min + 1, range.min + 2, range.max]),
    );

    const exhausted = await allocator.allocate().catch((error: unknown) => error);
    expect(exhausted).toBeInstanceOf(PortRangeExhaustedError);
    expect(exhausted).toMatchObject({ code: 'PORT_RANGE_EXHAUSTED', min: range.min, max: range.max });

    leases[2]!.release();
    const reused = await allocator.allocate();
    expect(reused.port).toBe(leases[2]!.port);
  });

  it('skips ports that another program holds', async () => {
    const range = await freeRange(2);
    const squatter = createSocket('udp4');
    await new Promise<void>((resolve) => squatter.bind(range.min, '127.0.0.1', () => resolve()));
    const allocator = track(new PortAllocator({ range }));
    const lease = await allocator.allocate();
    expect(lease.port).toBe(range.max);
    await expect(allocator.allocate()).rejects.toBeInstanceOf(PortRangeExhaustedError);
    squatter.close();
  });

  it('makes release idempotent and refuses to hand a socket out twice or after release', async () => {
    const allocator = track(new PortAllocator());
    const lease = await allocator.allocate();
    const socket = lease.ports[0]!.takeSocket();
    expect(() => lease.ports[0]!.takeSocket()).toThrow(PortLeaseStateError);
    lease.release();
    lease.release();
    expect(allocator.reservedCount).toBe(0);
    socket.close();

    const other = await allocator.allocate();
    other.release();
    expect(() => other.ports[0]!.takeSocket()).toThrow(/released/);
  });

  it('refuses to allocate after close and releases live leases', async () => {
    const allocator = new PortAllocator();
    await allocator.allocate(2);
    allocator.close();
    expect(allocator.reservedCount).toBe(0);
    await expect(allocator.allocate()).rejects.toBeInstanceOf(PortAllocatorClosedError);
  });

  it('rejects an invalid range up front', () => {
    expect(() => new PortAllocator({ range: { min: 5000, max: 4000 } })).toThrow(RangeError);
  });
});
