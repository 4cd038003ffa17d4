import { createPlaceholderResolver, processConfigSchema, replacePlaceholders } from '@dragon/restream';
import { describe, expect, it } from 'vitest';
import {
  cleanupRulesOf,
  localHostPort,
  memfsBaseUrl,
  placeholderTemplates,
} from './placeholder-templates.js';

const templates = placeholderTemplates({
  diskfsDir: '/srv/data',
  memfsUrl: () => memfsBaseUrl(':8080', { username: 'admin', password: 'p@ss' }),
  rtmp: { address: () => ':1935', app: '/live', token: 'secret' },
  srt: { address: () => '127.0.0.1:6000', token: 'tok', passphrase: '' },
  whip: { url: () => 'rtsp://127.0.0.1:7000/whip/{name}?token=t' },
});

/** One input and one output with the given addresses, resolved as the process manager does. */
function resolve(input: string, output: string, resolver = createPlaceholderResolver(templates)) {
  const config = processConfigSchema.parse({
    id: 'cam1',
    input: [{ id: 'in', address: input }],
    output: [{ id: 'out', address: output }],
  });
  const resolved = replacePlaceholders(config, resolver);
  return { input: resolved.input[0]?.address, output: resolved.output[0]?.address };
}

describe('placeholderTemplates', () => {
  it('expands the filesystem placeholders', () => {
    expect(resolve('{diskfs}/in.mp4', '{fs:disk}/x.mp4')).toEqual({
      input: '/srv/data/in.mp4',
      output: '/srv/data/x.mp4',
    });
    expect(resolve('x', '{memfs}/a.m3u8').output).toBe('http://admin:p%40ss@localhost:8080/memfs/a.m3u8');
  });

  it('expands {rtmp,name=…} to a local play URL with the server token', () => {
    expect(resolve('{rtmp,name=foo}', 'x').input).toBe('rtmp://localhost:1935/live/foo?token=secret');
    expect(resolve('{rtmp,name=$processid.stream}', 'x').input).toBe(
      'rtmp://localhost:1935/live/cam1.stream?token=secret',
    );
  });

  it('expands {srt,name=…} as a caller that requests in inputs and publishes in outputs', () => {
    expect(resolve('{srt,name=foo}', '{srt,name=foo,latency=120000}')).toEqual({
      input:
        'srt://127.0.0.1:6000?mode=caller&transtype=live&latency=20000&streamid=foo,mode:request,token:tok',
      output:
        'srt://127.0.0.1:6000?mode=caller&transtype=live&latency=120000&streamid=foo,mode:publish,token:tok',
    });
  });

  it('expands {whip,name=…} in inputs to the loopback feed, the name one path segment; never in outputs', () => {
    expect(resolve('{whip,name=cam}', '{whip,name=cam}')).toEqual({
      input: 'rtsp://127.0.0.1:7000/whip/cam?token=t',
      output: '{whip,name=cam}',
    });
    expect(resolve('{whip,name=..%2Fprocess%2Fx}', 'x').input).toBe(
      'rtsp://127.0.0.1:7000/whip/..%2Fprocess%2Fx?token=t',
    );
  });

  it('leaves the ingest placeholders as written when their server is off', () => {
    const withoutIngest = createPlaceholderResolver(
      placeholderTemplates({ diskfsDir: '/d', memfsUrl: () => 'http://m' }),
    );
    expect(resolve('{rtmp,name=x}', 'x', withoutIngest).input).toBe('{rtmp,name=x}');
  });

  it('maps wildcard and IPv6 listen addresses to reachable hosts', () => {
    expect(localHostPort('0.0.0.0:80')).toBe('localhost:80');
    expect(localHostPort('[::1]:80')).toBe('[::1]:80');
    expect(localHostPort('127.0.0.1:0')).toBe('127.0.0.1:0');
  });
});

describe('cleanupRulesOf', () => {
  it('fills the ids into the cleanup patterns', () => {
    const config = processConfigSchema.parse({
      id: 'cam1',
      input: [{ id: 'in', address: 'x' }],
      output: [
        {
          id: 'hls',
          address: 'y',
          cleanup: [{ pattern: 'memfs:/{processid}_{outputid}_*.ts', max_files: 5 }],
        },
      ],
    });
    expect(cleanupRulesOf(config)).toEqual([
      { pattern: 'memfs:/cam1_hls_*.ts', max_files: 5, max_file_age_seconds: 0, purge_on_delete: false },
    ]);
  });
});
