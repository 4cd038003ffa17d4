import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStreamId } from './srt-streamid.js';

describe('parseStreamId', () => {
  it.each([
    ['live', { resource: 'live', mode: 'request', token: '' }],
    ['live,mode:publish', { resource: 'live', mode: 'publish', token: '' }],
    ['live,mode:publish,token:abc', { resource: 'live', mode: 'publish', token: 'abc' }],
    ['live,token:abc,mode:publish', { resource: 'live', mode: 'publish', token: 'abc' }],
    ['live,token:a,b:c', { resource: 'live', mode: 'request', token: 'a,b:c' }],
    ['live%2Cmode%3Apublish', { resource: 'live', mode: 'publish', token: '' }],
    ['#!:m=publish,r=live,token=abc', { resource: 'live', mode: 'publish', token: 'abc' }],
    ['#!:r=live,token=abc', { resource: 'live', mode: 'request', token: 'abc' }],
    ['#!:m=publish,bogus,u=someone', { resource: '', mode: 'publish', token: '' }],
  ])('reads %s as datarhei does', (streamId, expected) => {
    expect(parseStreamId(streamId)).toEqual(expected);
  });

  it('keeps a streamid that is not valid percent-encoding as it is', () => {
    expect(parseStreamId('100%,mode:publish')).toEqual({ resource: '100%', mode: 'publish', token: '' });
  });

  it('reads any streamid a caller may send (libsrt allows 512 bytes) without throwing', () => {
    // Seeds: what FFmpeg sends for `{srt,name=…}` URLs, SRT's access-control form, and their mutations.
    const real = [
      'cam1,mode:request,token:secret',
      'cam1,mode:publish,token:secret',
      '#!:m=publish,r=cam,token=secret',
      'cam%2Cmode%3Apublish%2Ctoken%3As%25',
    ];
    const mutated = fc
      .tuple(fc.constantFrom(...real), fc.array(fc.tuple(fc.nat({ max: 40 }), fc.string({ maxLength: 3 }))))
      .map(([streamId, edits]) =>
        edits.reduce((text, [at, insert]) => text.slice(0, at) + insert + text.slice(at + 1), streamId),
      );
    const streamId = fc.oneof(mutated, fc.string({ maxLength: 512, unit: 'binary' }));
    fc.assert(
      fc.property(streamId, (raw) => {
        const info = parseStreamId(raw);
        expect([typeof info.resource, typeof info.mode, typeof info.token]).toEqual([
          'string',
          'string',
          'string',
        ]);
      }),
      { seed: 20261207, numRuns: 3000 },
    );
  });
});
