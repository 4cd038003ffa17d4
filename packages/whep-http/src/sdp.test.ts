import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidSdpError, InvalidSdpFragmentError } from './errors.js';
import { parseSdpFragment, readOffer } from './sdp.js';
import { OFFER, trickleFragment } from './testing/fake-engine.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('readOffer', () => {
  it('returns the offer text and its ICE credentials', () => {
    expect(readOffer(bytes(OFFER))).toEqual({
      sdp: OFFER,
      ice: { ufrag: 'zjkk', pwd: 'bP+XJMM09aR8AiX1jdukzR6Y' },
    });
  });

  it('accepts bare LF line endings', () => {
    expect(readOffer(bytes(OFFER.replaceAll('\r\n', '\n'))).ice.ufrag).toBe('zjkk');
  });

  it('leaves judging the SDP to the engine: any UTF-8 text is read as is', () => {
    expect(readOffer(bytes(`hello\r\n${OFFER}`)).sdp).toBe(`hello\r\n${OFFER}`);
  });

  it('refuses a body that is not UTF-8', () => {
    expect(() => readOffer(new Uint8Array([0x76, 0x3d, 0x30, 0xff, 0xfe]))).toThrow(InvalidSdpError);
  });
});

describe('parseSdpFragment', () => {
  it('reads a medooze-style fragment: session-level credentials, candidates without a=, end-of-candidates', () => {
    const fragment = parseSdpFragment(bytes(trickleFragment(['candidate:1 1 UDP 1 127.0.0.1 9 typ host'])));

    expect(fragment).toEqual({
      ufrag: 'zjkk',
      pwd: 'bP+XJMM09aR8AiX1jdukzR6Y',
      candidates: ['candidate:1 1 UDP 1 127.0.0.1 9 typ host'],
      endOfCandidates: true,
    });
  });

  it('reads credentials from the media section (RFC 8840 example layout) and ignores other attributes', () => {
    const text =
      'a=ice-options:trickle ice2\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na=ice-ufrag:u\r\na=ice-pwd:p\r\na=foo:bar\r\n';

    const fragment = parseSdpFragment(bytes(text));

    expect(fragment.ufrag).toBe('u');
    expect(fragment.pwd).toBe('p');
    expect(fragment.candidates).toEqual([]);
    expect(fragment.endOfCandidates).toBe(false);
  });

  it('refuses a fragment with a non-SDP line', () => {
    expect(() => parseSdpFragment(bytes('m=audio 9 RTP/AVP 0\r\ncandidate:1\r\n'))).toThrow(
      InvalidSdpFragmentError,
    );
  });
});

describe('SDP bodies from anyone', () => {
  it('reads random and mutated offers and trickle fragments, refusing only with its own errors', () => {
    // Seeds: the offer and the trickle fragment a browser sends; byte edits, cuts and noise.
    const seeds = [
      bytes(OFFER),
      bytes(trickleFragment(['candidate:1 1 UDP 2122260223 192.0.2.1 54321 typ host'])),
    ];
    const mutated = fc
      .tuple(
        fc.nat({ max: seeds.length - 1 }),
        fc.array(fc.tuple(fc.nat({ max: 2000 }), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
        fc.nat({ max: 2000 }),
      )
      .map(([which, edits, cut]) => {
        const body = seeds[which]!.slice(0, Math.max(cut, 1));
        for (const [at, value] of edits) if (at < body.length) body[at] = value;
        return body;
      });
    const body = fc.oneof(mutated, fc.uint8Array({ maxLength: 300 }));
    fc.assert(
      fc.property(body, (input) => {
        for (const read of [readOffer, parseSdpFragment]) {
          try {
            read(input);
          } catch (error) {
            if (!(error instanceof InvalidSdpError || error instanceof InvalidSdpFragmentError)) throw error;
          }
        }
      }),
      { seed: 20261207, numRuns: 3000 },
    );
  });
});
