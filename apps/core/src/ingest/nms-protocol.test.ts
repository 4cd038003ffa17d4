import { describe, expect, it } from 'vitest';
import { installedNmsVersion, NmsRtmpProtocol, nmsVersion } from './nms-protocol.js';
import { splitToken, streamPath, streamReference } from './rtmp-url.js';

describe('the node-media-server protocol engine', () => {
  it('is the version the adapter was checked against, with the entry points it uses', () => {
    expect(installedNmsVersion()).toBe(nmsVersion);
    const protocol = new NmsRtmpProtocol();
    expect(typeof protocol.parserData).toBe('function');
    expect(typeof NmsRtmpProtocol.createMessage).toBe('function');
    for (const callback of [
      'onConnectCallback',
      'onPlayCallback',
      'onPushCallback',
      'onPacketCallback',
      'onOutputCallback',
    ]) {
      expect(callback in protocol).toBe(true);
    }
  });
});

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
