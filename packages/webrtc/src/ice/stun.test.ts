import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Message } from 'werift';
import { readStun, StunClass, verifyStunIntegrity } from './stun.js';

// RFC 5769 §2.1: a sample binding request with USERNAME "evtj:h6vY", password "VOkJxbRl1RmTxUk/WvJxBt".
const rfc5769Request = Buffer.from(
  [
    '000100582112a442b7e7a701bc34d686fa87dfae',
    '802200105354554e207465737420636c69656e74',
    '002400046e0001ff80290008932ff9b151263b36',
    '000600096576746a3a68367659202020',
    '000800149aeaa70cbfd8cb56781ef2b5b2d3f249c1b571a2',
    '80280004e57a3bcf',
  ].join(''),
  'hex',
);
const rfc5769Password = 'VOkJxbRl1RmTxUk/WvJxBt';

/** A binding request the way werift's ICE agent builds its checks. */
function weriftRequest(username: string, password: string | undefined): Buffer {
  const request = new Message(0x0001, 0x0000);
  request.setAttribute('USERNAME', username).setAttribute('PRIORITY', 1853824767);
  if (password !== undefined) request.addMessageIntegrity(Buffer.from(password, 'utf8'));
  request.addFingerprint();
  return request.bytes;
}

describe('verifyStunIntegrity', () => {
  it('accepts the RFC 5769 sample request with its password', () => {
    expect(readStun(rfc5769Request)).toMatchObject({ cls: StunClass.request, username: 'evtj:h6vY' });
    expect(verifyStunIntegrity(rfc5769Request, rfc5769Password)).toBe(true);
  });

  it('refuses the sample with another password, a flipped bit, or a broken fingerprint', () => {
    expect(verifyStunIntegrity(rfc5769Request, `${rfc5769Password}x`)).toBe(false);
    const tampered = Buffer.from(rfc5769Request);
    tampered[30] = (tampered[30] ?? 0) ^ 1; // inside SOFTWARE, covered by both checks
    expect(verifyStunIntegrity(tampered, rfc5769Password)).toBe(false);
    const badFingerprint = Buffer.from(rfc5769Request);
    badFingerprint[badFingerprint.length - 1] = (badFingerprint.at(-1) ?? 0) ^ 1;
    expect(verifyStunIntegrity(badFingerprint, rfc5769Password)).toBe(false);
  });

  it("agrees with werift's own MESSAGE-INTEGRITY and FINGERPRINT", () => {
    expect(
      verifyStunIntegrity(weriftRequest('abcd:wxyz', 'server-password-1234567'), 'server-password-1234567'),
    ).toBe(true);
    expect(
      verifyStunIntegrity(weriftRequest('abcd:wxyz', 'another-password'), 'server-password-1234567'),
    ).toBe(false);
  });

  it('refuses a request without MESSAGE-INTEGRITY, without FINGERPRINT, or with anything after them', () => {
    const password = 'server-password-1234567';
    expect(verifyStunIntegrity(weriftRequest('abcd:wxyz', undefined), password)).toBe(false);
    const withoutFingerprint = new Message(0x0001, 0x0000)
      .setAttribute('USERNAME', 'abcd:wxyz')
      .addMessageIntegrity(Buffer.from(password)).bytes;
    expect(verifyStunIntegrity(withoutFingerprint, password)).toBe(false);
    const trailing = Buffer.concat([
      weriftRequest('abcd:wxyz', password),
      Buffer.from([0, 0x24, 0, 4, 1, 2, 3, 4]),
    ]);
    trailing.writeUInt16BE(trailing.readUInt16BE(2) + 8, 2);
    expect(verifyStunIntegrity(trailing, password)).toBe(false);
    for (const garbage of [Buffer.alloc(0), Buffer.alloc(20), Buffer.from('not stun at all, not at all')]) {
      expect(verifyStunIntegrity(garbage, password)).toBe(false);
    }
  });
});

describe('the STUN reader on hostile datagrams', () => {
  it('reads random and mutated binding requests without throwing, and authenticates none it should not', () => {
    // Seeds: the RFC 5769 sample and a request built by werift's ICE agent; edits, cuts and noise.
    const seeds = [rfc5769Request, weriftRequest('abcd:wxyz', 'server-password-1234567')];
    const mutated = fc
      .tuple(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat({ max: 120 }), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 6,
        }),
        fc.nat({ max: 130 }),
      )
      .map(([seed, edits, cut]) => {
        const bytes = Buffer.from(seed.subarray(0, Math.max(cut, 20)));
        for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value;
        return bytes;
      });
    const datagram = fc.oneof(
      mutated,
      fc.uint8Array({ maxLength: 200 }).map((array) => Buffer.from(array)),
    );
    fc.assert(
      fc.property(datagram, (bytes) => {
        readStun(bytes);
        // A mutation may only keep verifying if it changed nothing the HMAC and CRC cover.
        if (verifyStunIntegrity(bytes, rfc5769Password)) expect(bytes.equals(rfc5769Request)).toBe(true);
      }),
      { seed: 20261207, numRuns: 5000 },
    );
  });
});
