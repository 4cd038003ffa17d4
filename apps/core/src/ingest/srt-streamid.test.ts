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
});
