import { describe, expect, it } from 'vitest';
import { splitToken, streamPath, streamReference } from './rtmp-url.js';

describe("datarhei's RTMP naming", () => {
  it('joins app and name, and finds the token in the query or the last path element', () => {
    expect(streamPath('live', 'cam1')).toBe('/live/cam1');
    expect(streamPath('', 'cam1')).toBe('/cam1');
    expect(streamPath('live/sub', 'cam1/tok')).toBe('/live/sub/cam1/tok');
    expect(splitToken('/live/cam1', { token: 'abc' })).toEqual({ path: '/live/cam1', token: 'abc' });
    expect(splitToken('/live/cam1/abc', {})).toEqual({ path: '/live/cam1', token: 'abc' });
    expect(streamReference('/live/cam1.stream', '/live')).toBe('cam1');
    expect(streamReference('/cam1', '/')).toBe('cam1');
  });
});
