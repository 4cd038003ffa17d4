import { describe, expect, it } from 'vitest';
import { redactCredentials } from './redact.js';

describe('redactCredentials', () => {
  it.each([
    [
      'rtsp://admin:hunter2@10.0.0.2:554/Streaming/101: 401 Unauthorized',
      'rtsp://***@10.0.0.2:554/Streaming/101: 401 Unauthorized',
    ],
    ['user only: rtmp://token123@host/live', 'user only: rtmp://***@host/live'],
    [
      'srt://host:9000?mode=caller&passphrase=s3cret&latency=200',
      'srt://host:9000?mode=caller&passphrase=***&latency=200',
    ],
    ['https://cdn/x.m3u8?token=abc.def&b=1', 'https://cdn/x.m3u8?token=***&b=1'],
    ['Authorization: Basic dXNlcjpwYXNz', 'Authorization: ***'],
    ['two: rtsp://a:b@h1/x and rtsp://c:d@h2/y', 'two: rtsp://***@h1/x and rtsp://***@h2/y'],
  ])('%s', (text, redacted) => {
    expect(redactCredentials(text)).toBe(redacted);
  });

  it('leaves text without credentials alone', () => {
    const text = 'rtsp://10.0.0.2/stream: Connection refused; file /a@b.mp4; rist://@0.0.0.0:5000';
    expect(redactCredentials(text)).toBe(text);
  });
});
