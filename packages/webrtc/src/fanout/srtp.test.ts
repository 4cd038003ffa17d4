import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { RtpPacket, SrtpSession } from 'werift';
import { sessionSendKeys } from '../werift/srtp-keys.js';
import { loadNativeAddon, type NativeAddon } from './native-addon.js';
import { JsSrtpStream, SrtpProfile, type SrtpSessionKeys } from './srtp.js';

const profiles = [
  ['AES_CM_128_HMAC_SHA1_80', SrtpProfile.aesCm128HmacSha1_80],
  ['AEAD_AES_128_GCM', SrtpProfile.aeadAes128Gcm],
] as const;

/** Our side (what we send with) and the viewer's, as a DTLS handshake would pair them. */
function sessionPair(profile: SrtpProfile): {
  keys: SrtpSessionKeys;
  ours: SrtpSession;
  viewer: SrtpSession;
} {
  const saltLength = profile === SrtpProfile.aeadAes128Gcm ? 12 : 14;
  const [key, salt, viewerKey, viewerSalt] = [
    randomBytes(16),
    randomBytes(saltLength),
    randomBytes(16),
    randomBytes(saltLength),
  ];
  const ours = new SrtpSession({
    keys: {
      localMasterKey: key,
      localMasterSalt: salt,
      remoteMasterKey: viewerKey,
      remoteMasterSalt: viewerSalt,
    },
    profile,
  });
  const viewer = new SrtpSession({
    keys: {
      localMasterKey: viewerKey,
      localMasterSalt: viewerSalt,
      remoteMasterKey: key,
      remoteMasterSalt: salt,
    },
    profile,
  });
  const keys = sessionSendKeys(ours);
  if (!keys) throw new Error('no keys');
  return { keys, ours, viewer };
}

/** An RTP packet as FFmpeg sends it (the same bytes for the same number), with CSRCs and a header extension when asked. */
function rtp(sequenceNumber: number, options: { csrcs?: number; extension?: boolean } = {}): Buffer {
  const csrcs = options.csrcs ?? 0;
  const header = Buffer.alloc(12 + csrcs * 4 + (options.extension ? 8 : 0));
  header[0] = 0x80 | (options.extension ? 0x10 : 0) | csrcs;
  header[1] = 0x80 | 96;
  header.writeUInt16BE(sequenceNumber & 0xffff, 2);
  header.writeUInt32BE(sequenceNumber * 3000, 4);
  header.writeUInt32BE(0x1111_1111, 8);
  for (let index = 0; index < csrcs; index++) header.writeUInt32BE(0x2000 + index, 12 + index * 4);
  if (options.extension) {
    const at = 12 + csrcs * 4;
    header.writeUInt16BE(0xbede, at);
    header.writeUInt16BE(1, at + 2);
    header.writeUInt32BE(0x10ff_0000, at + 4);
  }
  const payload = Buffer.alloc(1 + (sequenceNumber % 1150));
  for (let index = 0; index < payload.length; index++)
    payload[index] = (sequenceNumber * 31 + index * 7) & 0xff;
  return Buffer.concat([header, payload]);
}

function nativeAddon(): NativeAddon {
  const loaded = loadNativeAddon();
  // Built by `pnpm build` (native/build.mjs); a machine that cannot build it fails here, by design.
  if ('error' in loaded) throw new Error(loaded.error);
  return loaded.addon;
}

describe.each(profiles)('SRTP %s', (_name, profile) => {
  it('protects as werift does: byte for byte, across the sequence number wrap', () => {
    const { keys, ours } = sessionPair(profile);
    const stream = new JsSrtpStream(keys, 0xdead_beef, 97);
    for (let ext = 65_000; ext < 66_500; ext += 3) {
      const packet = rtp(ext);
      const parsed = RtpPacket.deSerialize(packet);
      parsed.header.ssrc = 0xdead_beef;
      parsed.header.payloadType = 97;

      expect(stream.protect(packet, ext)).toEqual(ours.encrypt(parsed.payload, parsed.header));
    }
  });

  it('is what a viewer that joins mid-stream decrypts, ROC counted from its first packet', () => {
    const { keys, viewer } = sessionPair(profile);
    const stream = new JsSrtpStream(keys, 42, 97);
    // The source is in its third sequence cycle when this viewer joins.
    for (let ext = 3 * 65_536 + 65_400; ext < 4 * 65_536 + 300; ext += 7) {
      const decrypted = RtpPacket.deSerialize(viewer.decrypt(stream.protect(rtp(ext), ext)!));

      expect(decrypted.header.sequenceNumber).toBe(ext & 0xffff);
      expect(decrypted.header.ssrc).toBe(42);
      expect(decrypted.header.payloadType).toBe(97);
      expect(decrypted.header.marker).toBe(true);
      expect(decrypted.payload.equals(rtp(ext).subarray(12))).toBe(true);
    }
  });

  it('comes out of the native addon byte-identical to the JavaScript path', () => {
    const addon = nativeAddon();
    const { keys } = sessionPair(profile);
    const js = new JsSrtpStream(keys, 0x0102_0304, 111);
    const native = addon.createStream(
      keys.profile,
      keys.key,
      keys.salt,
      keys.authKey ?? null,
      0x0102_0304,
      111,
    );
    const shapes = [{}, { csrcs: 2 }, { extension: true }, { csrcs: 1, extension: true }];
    for (let ext = 2 * 65_536 - 500; ext < 2 * 65_536 + 500; ext += 5) {
      const packet = rtp(ext, shapes[ext % shapes.length]);

      expect(addon.protect(native, packet, ext)).toEqual(js.protect(packet, ext));
    }
  });

  it('sends nothing older than a stream’s first packet, in both paths', () => {
    const addon = nativeAddon();
    const { keys } = sessionPair(profile);
    const js = new JsSrtpStream(keys, 7, 97);
    const native = addon.createStream(keys.profile, keys.key, keys.salt, keys.authKey ?? null, 7, 97);
    js.protect(rtp(5 * 65_536 + 10), 5 * 65_536 + 10);
    addon.protect(native, rtp(5 * 65_536 + 10), 5 * 65_536 + 10);

    // One cycle before the first packet would need a negative ROC.
    expect(js.protect(rtp(4 * 65_536 + 10), 4 * 65_536 + 10)).toBeUndefined();
    expect(addon.protect(native, rtp(4 * 65_536 + 10), 4 * 65_536 + 10)).toBeUndefined();
    // Earlier in the first packet's cycle is fine (a NACKed packet right after joining).
    expect(addon.protect(native, rtp(5 * 65_536 + 5), 5 * 65_536 + 5)).toEqual(
      js.protect(rtp(5 * 65_536 + 5), 5 * 65_536 + 5),
    );
  });
});

describe('SRTP input checks', () => {
  it('refuses what is not RTP, in both paths', () => {
    const addon = nativeAddon();
    const { keys } = sessionPair(SrtpProfile.aeadAes128Gcm);
    const js = new JsSrtpStream(keys, 1, 97);
    const native = addon.createStream(keys.profile, keys.key, keys.salt, null, 1, 97);
    const notRtp = [Buffer.alloc(8), Buffer.from([0x40, ...Buffer.alloc(20)]), Buffer.alloc(1600, 0x80)];
    // An extension whose length runs past the packet.
    const truncated = rtp(1, { extension: true }).subarray(0, 14);
    for (const packet of [...notRtp, truncated]) {
      expect(js.protect(packet, 1)).toBeUndefined();
      expect(addon.protect(native, packet, 1)).toBeUndefined();
    }
  });
});
