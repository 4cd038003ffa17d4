import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  Message,
  parseMessage,
  RtcpReceiverInfo,
  RtcpRrPacket,
  RtpHeader,
  SrtcpSession,
  SrtpSession,
} from 'werift';
import { loadReceiver } from './receiver-addon.mjs';
import { keysOf } from './takeover.mjs';

let addon;
beforeAll(() => {
  addon = loadReceiver();
});

const profiles = [
  ['AES_CM_128_HMAC_SHA1_80', 1],
  ['AEAD_AES_128_GCM', 7],
];

/** The server's and the viewer's werift sessions, keyed as a DTLS handshake pairs them. */
function sessions(Session, profile) {
  const saltLength = profile === 7 ? 12 : 14;
  const server = { key: randomBytes(16), salt: randomBytes(saltLength) };
  const viewer = { key: randomBytes(16), salt: randomBytes(saltLength) };
  const make = (local, remote) =>
    new Session({
      keys: {
        localMasterKey: local.key,
        localMasterSalt: local.salt,
        remoteMasterKey: remote.key,
        remoteMasterSalt: remote.salt,
      },
      profile,
    });
  return { server: make(server, viewer), viewer: make(viewer, server) };
}

const rtp = (session, sequenceNumber, payload = randomBytes(900)) =>
  session.encrypt(
    payload,
    new RtpHeader({ payloadType: 96, sequenceNumber, timestamp: 90_000, ssrc: 0x1234abcd, marker: false }),
  );

describe('sequence continuity', () => {
  it('counts no loss for packets in order', () => {
    expect(addon.trackSequence([10, 11, 12, 13])).toMatchObject({ expected: 4, received: 4, lost: 0 });
  });

  it('counts the packets of a gap as lost', () => {
    expect(addon.trackSequence([10, 11, 14, 15])).toMatchObject({ expected: 6, received: 4, lost: 2 });
  });

  it('counts a reordered packet as received, not lost', () => {
    expect(addon.trackSequence([10, 12, 11, 13])).toMatchObject({ expected: 4, received: 4, lost: 0 });
  });

  it('counts a duplicate apart from the received packets', () => {
    expect(addon.trackSequence([10, 11, 11, 12])).toMatchObject({ received: 3, lost: 0, duplicates: 1 });
  });

  it('follows the sequence number across its wrap', () => {
    expect(addon.trackSequence([65534, 65535, 0, 2])).toMatchObject({
      expected: 5,
      received: 4,
      lost: 1,
      highest: 65536 + 2,
    });
  });

  it('leaves out a late packet older than the first one seen', () => {
    expect(addon.trackSequence([100, 101, 99])).toMatchObject({ expected: 2, received: 2, lost: 0 });
  });
});

describe.each(profiles)('SRTP tag check with %s', (_, profile) => {
  it('accepts the tag werift puts on a packet', () => {
    const { server, viewer } = sessions(SrtpSession, profile);
    const keys = keysOf(viewer.remoteContext, 'srtp');
    expect(addon.verifyRtp(keys, rtp(server, 4000), 0)).toBe(true);
  });

  it('rejects a packet changed on the way', () => {
    const { server, viewer } = sessions(SrtpSession, profile);
    const packet = rtp(server, 4000);
    packet[40] ^= 0x01;
    expect(addon.verifyRtp(keysOf(viewer.remoteContext, 'srtp'), packet, 0)).toBe(false);
  });

  it('needs the rollover counter the sender used', () => {
    const { server, viewer } = sessions(SrtpSession, profile);
    rtp(server, 65535);
    const wrapped = rtp(server, 1);
    const keys = keysOf(viewer.remoteContext, 'srtp');
    expect(addon.verifyRtp(keys, wrapped, 1)).toBe(true);
    expect(addon.verifyRtp(keys, wrapped, 0)).toBe(false);
  });
});

describe.each(profiles)('SRTCP receiver reports with %s', (_, profile) => {
  it('are what werift decrypts on the server', () => {
    const { server, viewer } = sessions(SrtcpSession, profile);
    const report = new RtcpRrPacket({
      ssrc: 0xdeadbeef,
      reports: [
        new RtcpReceiverInfo({
          ssrc: 0x1234abcd,
          fractionLost: 3,
          packetsLost: 7,
          highestSequence: 70_000,
          jitter: 0,
          lsr: 0,
          dlsr: 0,
        }),
      ],
    }).serialize();
    const keys = keysOf(viewer.localContext, 'srtcp');
    const first = addon.protectRtcp(keys, report, 0);
    const second = addon.protectRtcp(keys, report, 1);
    expect(server.decrypt(first)).toEqual(report);
    expect(server.decrypt(second)).toEqual(report);
    expect(first.subarray(8, report.length)).not.toEqual(report.subarray(8));
  });
});

describe('STUN consent answers', () => {
  it('answer a binding request with our address, integrity and fingerprint', () => {
    const password = Buffer.from('viewer-ice-password-0123');
    const request = new Message(1, 0).setAttribute('USERNAME', 'viewer:server');
    request.addMessageIntegrity(Buffer.from('server-password')).addFingerprint();
    const reply = addon.stunReply(request.bytes, password, '127.0.0.1', 40_000);
    const parsed = parseMessage(reply, password);
    expect(parsed?.messageClass).toBe(0x100);
    expect(parsed?.transactionId).toEqual(request.transactionId);
    expect(parsed?.getAttributeValue('XOR-MAPPED-ADDRESS')).toEqual(['127.0.0.1', 40_000]);
    expect(parsed?.getAttributeValue('FINGERPRINT')).toBeDefined();
  });

  it('leave anything but a binding request unanswered', () => {
    const response = new Message(1, 0x100);
    expect(addon.stunReply(response.bytes, Buffer.from('pw'), '127.0.0.1', 40_000).length).toBe(0);
  });
});
