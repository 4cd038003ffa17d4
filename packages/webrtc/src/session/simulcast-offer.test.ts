import { describe, expect, it } from 'vitest';
import { readSimulcastOffer } from './simulcast-offer.js';

const offer = (videoLines: string[]) =>
  [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id',
    'a=rtpmap:111 opus/48000/2',
    'm=video 9 UDP/TLS/RTP/SAVPF 96',
    'a=rtpmap:96 H264/90000',
    ...videoLines,
    '',
  ].join('\r\n');

const ridExtension = 'a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id';
const declared = (...rids: string[]) => rids.map((rid) => `a=rid:${rid} send`);

describe('the simulcast layers of an offer', () => {
  it('are the rids of the video section’s a=simulcast:send line, in its order, with the rid extension’s id', () => {
    const read = readSimulcastOffer(
      offer([ridExtension, ...declared('q', 'h', 'f'), 'a=simulcast:send f;h;q']),
    );

    expect(read).toEqual({ rids: ['f', 'h', 'q'], ridExtensionId: 10 });
  });

  it('take the first alternative of a layer and a paused layer’s rid, and three layers at most', () => {
    const read = readSimulcastOffer(
      offer([ridExtension, ...declared('a', 'b', 'c', 'd', 'e'), 'a=simulcast:send a,b;~c;d;e']),
    );

    expect(read.rids).toEqual(['a', 'c', 'd']);
  });

  it('are none without the rid extension, with an undeclared or repeated rid, or with one layer', () => {
    const none = { rids: [], ridExtensionId: undefined };

    expect(readSimulcastOffer(offer([...declared('q', 'f'), 'a=simulcast:send f;q']))).toEqual(none);
    expect(readSimulcastOffer(offer([ridExtension, ...declared('q'), 'a=simulcast:send f;q']))).toEqual(none);
    expect(readSimulcastOffer(offer([ridExtension, ...declared('q'), 'a=simulcast:send q;q']))).toEqual(none);
    expect(readSimulcastOffer(offer([ridExtension, ...declared('q'), 'a=simulcast:send q']))).toEqual(none);
    expect(
      readSimulcastOffer(offer([ridExtension, ...declared('q<x', 'f'), 'a=simulcast:send q<x;f'])),
    ).toEqual(none);
    expect(readSimulcastOffer(offer([]))).toEqual(none);
  });
});
