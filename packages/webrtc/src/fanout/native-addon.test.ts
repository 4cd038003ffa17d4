import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { existsSync, readFileSync } from 'node:fs';
import { waitFor } from '@dragon/test-helpers';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNativeAddon, type NativeAddon } from './native-addon.js';
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
    const counters = new Float64Array(8);
    const viewers = await Promise.all(
      [0x0a0a_0a0a, 0x0b0b_0b0b].map(async (ssrc, index) => {
        const keys = keysFor(profile);
        const stream = addon.createStream(keys.profile, keys.key, keys.salt, keys.authKey ?? null, ssrc, 102);
        const target = await receiver();
        addon.setTarget(stream, fd, '127.0.0.1', target.port, 4);
        addon.setCounters(stream, counters, index * 4);
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
    expect([...counters]).toEqual([
      total + 1,
      plainOctets + 300 - 12 * (total + 1),
      plainOctets + 300,
      0,
      total,
      plainOctets - 12 * total,
      plainOctets,
      0,
    ]);
    expect(addon.groupFlush(group)).toBe(0);
    addon.close(fd);
  });
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
