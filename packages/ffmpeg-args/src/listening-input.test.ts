import { describe, expect, it } from 'vitest';
import { isListeningInput, isLoopingInput } from './listening-input.js';

describe('isListeningInput', () => {
  it.each([
    ['RTMP with -listen 1', 'rtmp://0.0.0.0:1935/live/cam', ['-listen', '1']],
    ['RTMP with -rtmp_listen 1', 'rtmp://0.0.0.0:1935/live/cam', ['-rtmp_listen', '1']],
    ['HTTP with -listen 2 (many clients)', 'http://0.0.0.0:8080/in', ['-listen', '2']],
    ['RTSP with -rtsp_flags listen', 'rtsp://0.0.0.0:8554/cam', ['-rtsp_flags', 'listen']],
    ['RTSP with combined flags', 'rtsp://0.0.0.0:8554/cam', ['-rtsp_flags', 'filter_src+listen']],
    ['TCP with ?listen', 'tcp://0.0.0.0:9000?listen', []],
    ['TCP with ?listen=1 among other parameters', 'tcp://0.0.0.0:9000?timeout=5&listen=1', []],
    ['SRT in listener mode', 'srt://0.0.0.0:9000?mode=listener&latency=200', []],
    ['SRT with -mode listener', 'srt://0.0.0.0:9000', ['-mode', 'listener']],
    ['RIST bound with @', 'rist://@0.0.0.0:5000', []],
  ])('%s waits for a publisher', (_name, address, options) => {
    expect(isListeningInput({ address, options })).toBe(true);
  });

  it.each([
    ['an RTSP camera pulled over TCP', 'rtsp://user:pw@10.0.0.2/stream1', ['-rtsp_transport', 'tcp']],
    ['RTMP pulled from a server', 'rtmp://example.net/live/key', []],
    ['RTMP with -listen 0', 'rtmp://0.0.0.0:1935/live/cam', ['-listen', '0']],
    ['RTSP flags without listen', 'rtsp://10.0.0.2/s', ['-rtsp_flags', 'prefer_tcp']],
    ['RTSP flags that remove listen', 'rtsp://10.0.0.2/s', ['-rtsp_flags', 'listen-listen']],
    ['SRT as caller', 'srt://example.net:9000?mode=caller', []],
    ['an HLS playlist', 'https://example.net/live/index.m3u8?token=abc', []],
    ['MPEG-TS over UDP (no connection to take)', 'udp://0.0.0.0:1234?fifo_size=100000', []],
    ['a file', '/media/movie.mp4', ['-re', '-stream_loop', '-1']],
    ['a test pattern', 'testsrc2=size=640x360', ['-f', 'lavfi']],
  ])('%s is pulled, not served', (_name, address, options) => {
    expect(isListeningInput({ address, options })).toBe(false);
  });
});

describe('isLoopingInput', () => {
  it('is true for -stream_loop other than 0, the last one winning', () => {
    expect(isLoopingInput({ address: 'a.mp4', options: ['-re', '-stream_loop', '-1'] })).toBe(true);
    expect(isLoopingInput({ address: 'a.mp4', options: ['-stream_loop', '3'] })).toBe(true);
    expect(isLoopingInput({ address: 'a.mp4', options: ['-stream_loop', '0'] })).toBe(false);
    expect(isLoopingInput({ address: 'a.mp4', options: ['-stream_loop', '-1', '-stream_loop', '0'] })).toBe(
      false,
    );
    expect(isLoopingInput({ address: 'a.mp4', options: ['-re'] })).toBe(false);
    expect(isLoopingInput({ address: 'a.mp4' })).toBe(false);
  });
});
