import { processConfigSchema } from '@dragon/restream';
import { describe, expect, it } from 'vitest';
import {
  cleanupRulesOf,
  createPlaceholderExpander,
  expandProcessConfig,
  localHostPort,
  memfsBaseUrl,
} from './placeholder-expander.js';

const expand = createPlaceholderExpander({
  diskfsDir: '/srv/data',
  memfsUrl: () => memfsBaseUrl(':8080', { username: 'admin', password: 'p@ss' }),
  rtmp: { address: () => ':1935', app: '/live', token: 'secret' },
  srt: { address: () => '127.0.0.1:6000', token: 'tok', passphrase: '' },
});

describe('createPlaceholderExpander', () => {
  it('expands the filesystem placeholders', () => {
    expect(expand('{diskfs}/x.mp4', 'output')).toBe('/srv/data/x.mp4');
    expect(expand('{fs:disk}/x.mp4', 'output')).toBe('/srv/data/x.mp4');
    expect(expand('{memfs}/a.m3u8', 'output')).toBe('http://admin:p%40ss@localhost:8080/memfs/a.m3u8');
  });

  it('expands {rtmp,name=…} to a local play URL with the server token', () => {
    expect(expand('{rtmp,name=foo}', 'input')).toBe('rtmp://localhost:1935/live/foo?token=secret');
    expect(expand('{rtmp,name=$processid.stream}', 'input', { processid: 'cam1' })).toBe(
      'rtmp://localhost:1935/live/cam1.stream?token=secret',
    );
  });

  it('expands {srt,name=…} as a caller that requests in inputs and publishes in outputs', () => {
    expect(expand('{srt,name=foo}', 'input')).toBe(
      'srt://127.0.0.1:6000?mode=caller&transtype=live&latency=20000&streamid=foo,mode:request,token:tok',
    );
    expect(expand('{srt,name=foo,latency=120000}', 'output')).toBe(
      'srt://127.0.0.1:6000?mode=caller&transtype=live&latency=120000&streamid=foo,mode:publish,token:tok',
    );
  });

  it('escapes a character on request and leaves unknown or excluded placeholders as written', () => {
    expect(expand('{diskfs^/}', 'global')).toBe('\\\\/srv\\\\/data');
    expect(expand('{nothing} {rtmp,name=x}', 'output', {}, ['memfs'])).toBe('{nothing} {rtmp,name=x}');
    const withoutIngest = createPlaceholderExpander({ diskfsDir: '/d', memfsUrl: () => 'http://m' });
    expect(withoutIngest('{rtmp,name=x}', 'input')).toBe('{rtmp,name=x}');
  });

  it('maps wildcard and IPv6 listen addresses to reachable hosts', () => {
    expect(localHostPort('0.0.0.0:80')).toBe('localhost:80');
    expect(localHostPort('[::1]:80')).toBe('[::1]:80');
    expect(localHostPort('127.0.0.1:0')).toBe('127.0.0.1:0');
  });
});

describe('expandProcessConfig', () => {
  it('resolves a whole process as datarhei does, cleanup patterns included', () => {
    const config = processConfigSchema.parse({
      id: 'cam1',
      reference: 'ref',
      options: ['-loglevel', 'info', '{memfs}'],
      input: [{ id: 'in', address: '{rtmp,name={processid}}', options: [] }],
      output: [
        {
          id: 'hls',
          address: '{memfs}/{processid}.m3u8',
          options: ['-hls_segment_filename', '{memfs}/{processid}_{outputid}_%04d.ts'],
          cleanup: [{ pattern: 'memfs:/{processid}_*.ts', max_files: 5 }],
        },
      ],
    });
    const resolved = expandProcessConfig(config, expand);
    expect(resolved.options).toEqual(['-loglevel', 'info', '{memfs}']);
    expect(resolved.input[0]?.address).toBe('rtmp://localhost:1935/live/cam1?token=secret');
    expect(resolved.output[0]?.address).toBe('http://admin:p%40ss@localhost:8080/memfs/cam1.m3u8');
    expect(resolved.output[0]?.options[1]).toBe('http://admin:p%40ss@localhost:8080/memfs/cam1_hls_%04d.ts');
    expect(resolved.output[0]?.cleanup[0]?.pattern).toBe('memfs:/cam1_*.ts');
    expect(cleanupRulesOf(config)).toEqual([
      { pattern: 'memfs:/cam1_*.ts', max_files: 5, max_file_age_seconds: 0, purge_on_delete: false },
    ]);
  });
});
