import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { waitFor } from '@dragon/test-helpers';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNativeAddon, type NativeAddon, type NativeGroup, type NativeStream } from './native-addon.js';
import { streamCounterCount } from './output.js';
import { socketFd } from './socket-fd.js';
import { JsSrtpStream, SrtpProfile, type SrtpSessionKeys } from './srtp.js';

function nativeAddon(): NativeAddon {
  const loaded = loadNativeAddon();
  // Built by `pnpm build` (native/build.mjs); a machine that cannot build it fails here, by design.
  if ('error' in loaded) throw new Error(loaded.error);
  return loaded.addon;
}

function keysFor(profile: SrtpProfile): SrtpSessionKeys {
  return profile === SrtpProfile.aeadAes128Gcm
    ? { profile, key: randomBytes(16), salt: randomBytes(12) }
    : { profile, key: randomBytes(16), salt: randomBytes(14), authKey: randomBytes(20) };
}

/** An RTP packet of `size` bytes, its payload derived from its sequence number. */
function rtp(sequenceNumber: number, size: number): Buffer {
  const packet = Buffer.alloc(size);
  packet[0] = 0x80;
  packet[1] = 96;
  packet.writeUInt16BE(sequenceNumber & 0xffff, 2);
  packet.writeUInt32BE(sequenceNumber * 3000, 4);
  packet.writeUInt32BE(0x1111_1111, 8);
  for (let index = 12; index < size; index++) packet[index] = (sequenceNumber * 13 + index) & 0xff;
  return packet;
}

const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

async function boundSocket(): Promise<Socket> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

async function receiver(): Promise<{ port: number; datagrams: Buffer[] }> {
  const socket = await boundSocket();
  const datagrams: Buffer[] = [];
  socket.on('message', (datagram) => datagrams.push(datagram));
  return { port: socket.address().port, datagrams };
}

describe.each([
  ['AES_CM_128_HMAC_SHA1_80', SrtpProfile.aesCm128HmacSha1_80],
  ['AEAD_AES_128_GCM', SrtpProfile.aeadAes128Gcm],
] as const)('a native group flush (%s)', (_name, profile) => {
  it('delivers a batch to every viewer as the packets it is made of, in order, each as the one-by-one path protects it', async () => {
    const addon = nativeAddon();
    const sender = await boundSocket();
    const fd = addon.dup(socketFd(sender)!);
    const group = addon.createGroup();
    const counters = new Float64Array(2 * streamCounterCount);
    const viewers = await Promise.all(
      [0x0a0a_0a0a, 0x0b0b_0b0b].map(async (ssrc, index) => {
        const keys = keysFor(profile);
        const stream = addon.createStream(keys.profile, keys.key, keys.salt, keys.authKey ?? null, ssrc, 102);
        const target = await receiver();
        addon.setTarget(stream, fd, '127.0.0.1', target.port, 4);
        addon.setCounters(stream, counters, index * streamCounterCount);
        addon.groupAdd(group, stream);
        return { stream, target, js: new JsSrtpStream(keys, ssrc, 102) };
      }),
    );
    // Runs of equal sizes (one datagram each where the kernel segments), a shorter packet ending a
    // run, a larger one starting the next, and a frame of more packets than one flush queues.
    const sizes = [1200, 1200, 1200, 1200, 1200, 800, 1200, 1200, 1200, 1300, 200, 1300];
    const frame = Array.from({ length: 70 }, () => 300);
    const batches = [sizes, frame];
    const expected: Buffer[][] = viewers.map(() => []);
    const scratch = Buffer.alloc(1500);
    let ext = 5 * 65_536 + 65_530; // across a sequence number wrap
    let sent = 0;
    for (const batch of batches) {
      for (const size of batch) {
        const packet = rtp(ext, size);
        packet.copy(scratch);
        addon.groupEnqueue(group, scratch, size, ext);
        viewers.forEach(({ js }, index) => {
          expected[index]!.push(js.protect(packet, ext)!);
        });
        ext++;
      }
      // What is not RTP is not queued.
      addon.groupEnqueue(group, Buffer.alloc(40), 40, ext);
      sent += addon.groupFlush(group);
    }
    // A retransmission to one viewer after the batches (the one-packet path shares their scratch).
    const resent = rtp(ext - 3, 300);
    expect(addon.send(viewers[0]!.stream, resent, ext - 3)).toBe(1);
    expected[0]!.push(viewers[0]!.js.protect(resent, ext - 3)!);
    const total = sizes.length + frame.length;

    expect(sent).toBe(2 * total);
    await waitFor('every datagram received', () =>
      viewers.every(({ target }, index) => target.datagrams.length >= expected[index]!.length),
    );
    viewers.forEach(({ target }, index) => {
      expect(target.datagrams).toEqual(expected[index]);
    });
    const plainOctets = [...sizes, ...frame].reduce((sum, size) => sum + size, 0);
    // Per stream: packets, payload octets, octets (the addon's), retransmitted, dropped, and the
    // index base and output space, which the shard keeps.
    const shards = Array.from({ length: streamCounterCount - 5 }, () => 0);
    expect([...counters]).toEqual([
      total + 1,
      plainOctets + 300 - 12 * (total + 1),
      plainOctets + 300,
      0,
      0,
      ...shards,
      total,
      plainOctets - 12 * total,
      plainOctets,
      0,
      0,
      ...shards,
    ]);
    expect(addon.groupFlush(group)).toBe(0);
    addon.close(fd);
  });
});

describe('a native stream made again (a restarted data-plane worker)', () => {
  it('protects with the rollover counter counted from the index base it is given, as the first stream did', () => {
    const addon = nativeAddon();
    const keys = keysFor(SrtpProfile.aesCm128HmacSha1_80);
    const first = new JsSrtpStream(keys, 0x0a0a_0a0a, 96);
    // The viewer's first packet was in block 3; the stream is made again in block 5.
    first.protect(rtp(3 * 65_536 + 100, 200), 3 * 65_536 + 100);
    const ext = 5 * 65_536 + 7;
    const stream = () =>
      addon.createStream(keys.profile, keys.key, keys.salt, keys.authKey ?? null, 0x0a0a_0a0a, 96);
    const again = stream();
    const fresh = stream();

    addon.indexBase(again, 3 * 65_536 + 100);

    expect(addon.protect(again, rtp(ext, 200), ext)).toEqual(first.protect(rtp(ext, 200), ext));
    // Without it the first packet sets the base, and the viewer could decrypt nothing more.
    expect(addon.protect(fresh, rtp(ext, 200), ext)).not.toEqual(first.protect(rtp(ext, 200), ext));
  });
});

describe('a stream in its own output space (a viewer moved to another rendition)', () => {
  it.each([
    ['AES_CM_128_HMAC_SHA1_80', SrtpProfile.aesCm128HmacSha1_80],
    ['AEAD_AES_128_GCM', SrtpProfile.aeadAes128Gcm],
  ] as const)(
    'sends the packet renumbered and retimed, the same bytes from the addon as from JavaScript (%s)',
    (_name, profile) => {
      const addon = nativeAddon();
      const keys = keysFor(profile);
      const native = addon.createStream(
        keys.profile,
        keys.key,
        keys.salt,
        keys.authKey ?? null,
        0x0a0a_0a0a,
        96,
      );
      const js = new JsSrtpStream(keys, 0x0a0a_0a0a, 96);
      const plain = new JsSrtpStream(keys, 0x0a0a_0a0a, 96);
      // Output ext 65_530 onwards, across a rollover; the timestamp moves by 2^32 - 5 (wraps).
      const seqOffset = 65_530 - 10;
      const tsOffset = 2 ** 32 - 5;
      addon.setOffsets(native, seqOffset, tsOffset);
      js.setOffsets(seqOffset, tsOffset);
      for (const ext of [10, 11, 16, 17]) {
        const fromNative = addon.protect(native, rtp(ext, 300), ext);
        const fromJs = js.protect(rtp(ext, 300), ext);
        expect(fromNative).toEqual(fromJs);
        // What a stream without offsets sends for the packet renumbered and retimed by hand.
        const moved = rtp(ext, 300);
        moved.writeUInt16BE((ext + seqOffset) & 0xffff, 2);
        moved.writeUInt32BE((ext * 3000 + tsOffset) >>> 0, 4);
        expect(fromJs).toEqual(plain.protect(moved, ext + seqOffset));
      }
      // Offsets back to 0: the source's own numbers again (an older run's NACK answered).
      addon.setOffsets(native, 0, 0);
      expect(addon.protect(native, rtp(65_540, 300), 65_540)).toEqual(
        plain.protect(rtp(65_540, 300), 65_540),
      );
    },
  );
});

describe('the data-plane thread’s time slice', () => {
  it('is what the kernel reports for the thread once granted', () => {
    const addon = nativeAddon();
    const granted = addon.shortenSlice(100_000);
    // Kernels before EEVDF's custom slices (6.12) refuse or ignore it; the thread runs as before.
    if (!granted || !existsSync('/proc/thread-self/sched')) return;
    const slice = /se\.slice\s*:\s*(\d+)/.exec(readFileSync('/proc/thread-self/sched', 'utf8'));
    if (!slice) return;

    expect(Number(slice[1])).toBe(100_000);
  });
});

describe('the addon’s arguments', () => {
  function fixture(): { addon: NativeAddon; stream: NativeStream; group: NativeGroup; packet: Buffer } {
    const addon = nativeAddon();
    const keys = keysFor(SrtpProfile.aeadAes128Gcm);
    const stream = addon.createStream(keys.profile, keys.key, keys.salt, null, 0x0a0a_0a0a, 96);
    return { addon, stream, group: addon.createGroup(), packet: rtp(1, 200) };
  }
  // Each stands for what a caller's bug would pass: the addon must refuse it before reading it.
  const notIntegers = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.5, '7', undefined];

  it('refuses a group where a stream is expected, and a stream where a group is, with a TypeError', () => {
    const { addon, stream, group, packet } = fixture();
    const asStream = group as unknown as NativeStream;
    const asGroup = stream as unknown as NativeGroup;

    expect(() => addon.setTarget(asStream, -1, '127.0.0.1', 9, 4)).toThrow(TypeError);
    expect(() => addon.setCounters(asStream, new Float64Array(streamCounterCount), 0)).toThrow(TypeError);
    expect(() => addon.send(asStream, packet, 1)).toThrow(TypeError);
    expect(() => addon.protect(asStream, packet, 1)).toThrow(TypeError);
    expect(() => addon.indexBase(asStream, 1)).toThrow(TypeError);
    expect(() => addon.groupAdd(group, asStream)).toThrow(TypeError);
    expect(() => addon.groupAdd(asGroup, stream)).toThrow(TypeError);
    expect(() => addon.groupRemove(asGroup, stream)).toThrow(TypeError);
    expect(() => addon.groupEnqueue(asGroup, packet, packet.length, 1)).toThrow(TypeError);
    expect(() => addon.groupFlush(asGroup)).toThrow(TypeError);
    expect(() => addon.groupFlush({} as NativeGroup)).toThrow(TypeError);
    expect(() => addon.send(null as unknown as NativeStream, packet, 1)).toThrow(TypeError);
    // Both are still what they were: the stream protects, the group flushes.
    expect(addon.protect(stream, packet, 1)).toBeInstanceOf(Buffer);
    expect(addon.groupFlush(group)).toBe(0);
  });

  it('refuses NaN, infinities, fractions and non-numbers wherever it takes an integer, with a TypeError', () => {
    const { addon, stream, group, packet } = fixture();
    const keys = keysFor(SrtpProfile.aeadAes128Gcm);
    for (const value of notIntegers) {
      const n = value as number;
      expect(() => addon.send(stream, packet, n)).toThrow(TypeError);
      expect(() => addon.protect(stream, packet, n)).toThrow(TypeError);
      expect(() => addon.indexBase(stream, n)).toThrow(TypeError);
      expect(() => addon.setOffsets(stream, n, 0)).toThrow(TypeError);
      expect(() => addon.setOffsets(stream, 0, n)).toThrow(TypeError);
      expect(() => addon.groupEnqueue(group, packet, n, 1)).toThrow(TypeError);
      expect(() => addon.groupEnqueue(group, packet, packet.length, n)).toThrow(TypeError);
      expect(() => addon.setTarget(stream, n, '127.0.0.1', 9, 4)).toThrow(TypeError);
      expect(() => addon.setTarget(stream, -1, '127.0.0.1', n, 4)).toThrow(TypeError);
      expect(() => addon.setTarget(stream, -1, '127.0.0.1', 9, n as 4)).toThrow(TypeError);
      expect(() => addon.setCounters(stream, new Float64Array(streamCounterCount), n)).toThrow(TypeError);
      expect(() => addon.createStream(keys.profile, keys.key, keys.salt, null, n, 96)).toThrow(TypeError);
      expect(() => addon.createStream(keys.profile, keys.key, keys.salt, null, 1, n)).toThrow(TypeError);
      expect(() => addon.createStream(n, keys.key, keys.salt, null, 1, 96)).toThrow(TypeError);
      expect(() => addon.dup(n)).toThrow(TypeError);
      expect(() => addon.close(n)).toThrow(TypeError);
      expect(() => addon.shortenSlice(n)).toThrow(TypeError);
      expect(() => addon.idleThread(n)).toThrow(TypeError);
    }
    expect(() => addon.setTarget(stream, -1, 127 as unknown as string, 9, 4)).toThrow(TypeError);
    expect(() => addon.setCounters(stream, [0, 0, 0, 0, 0] as unknown as Float64Array, 0)).toThrow(TypeError);
    expect(() => addon.send(stream, 'packet' as unknown as Buffer, 1)).toThrow(TypeError);
    // Nothing was queued or sent by the refused calls.
    expect(addon.groupFlush(group)).toBe(0);
  });

  it('refuses integers out of range with a RangeError instead of wrapping them', () => {
    const { addon, stream, group, packet } = fixture();
    const keys = keysFor(SrtpProfile.aeadAes128Gcm);

    // 2^32 + 3 would have become descriptor 3, 2^32 + 1 SSRC 1.
    expect(() => addon.setTarget(stream, 2 ** 32 + 3, '127.0.0.1', 9, 4)).toThrow(RangeError);
    expect(() => addon.createStream(keys.profile, keys.key, keys.salt, null, 2 ** 32 + 1, 96)).toThrow(
      RangeError,
    );
    expect(() => addon.createStream(keys.profile, keys.key, keys.salt, null, 1, 128)).toThrow(RangeError);
    expect(() => addon.setTarget(stream, -1, '127.0.0.1', 65_536, 4)).toThrow(RangeError);
    expect(() => addon.setTarget(stream, -1, '127.0.0.1', 9, 5 as 4)).toThrow(RangeError);
    expect(() => addon.setTarget(stream, -2, '127.0.0.1', 9, 4)).toThrow(RangeError);
    expect(() => addon.send(stream, packet, -1)).toThrow(RangeError);
    expect(() => addon.send(stream, packet, 2 ** 53)).toThrow(RangeError);
    expect(() => addon.indexBase(stream, -1)).toThrow(RangeError);
    expect(() => addon.setOffsets(stream, 0, 2 ** 32)).toThrow(RangeError);
    expect(() => addon.setOffsets(stream, 0, -1)).toThrow(RangeError);
    expect(() => addon.setOffsets(stream, 2 ** 53, 0)).toThrow(RangeError);
    expect(() => addon.groupEnqueue(group, packet, packet.length + 1, 1)).toThrow(RangeError);
    // The addon writes five counters from the index: [1, 6) does not fit in five.
    expect(() => addon.setCounters(stream, new Float64Array(5), 1)).toThrow(RangeError);
    expect(() => addon.setCounters(stream, new Float64Array(2), 0)).toThrow(RangeError);
    expect(() => addon.dup(-1)).toThrow(RangeError);
    expect(() => addon.idleThread(-5)).toThrow(RangeError);
    expect(addon.groupFlush(group)).toBe(0);
  });
});
