import { describe, expect, it } from 'vitest';
import { hlsMastersOf, MasterPlaylistIndex } from './hls-outputs.js';

const memfs = 'http://admin:secret@localhost:8080/memfs';
const locate = (address: string) =>
  address.startsWith(`${memfs}/`) ? { filesystem: 'mem', path: address.slice(memfs.length) } : undefined;

describe('which master playlists an HLS output writes', () => {
  it("reads the Restreamer UI's ingest output (-master_pl_name beside the variant)", () => {
    const masters = hlsMastersOf({
      address: `${memfs}/7d1f_output_0.m3u8`,
      options: ['-dn', '-sn', '-map', '0:0', '-codec:v', 'copy', '-f', 'hls', '-master_pl_name', '7d1f.m3u8'],
    });

    expect(masters).toEqual([
      {
        master: `${memfs}/7d1f.m3u8`,
        variants: [{ playlist: `${memfs}/7d1f_output_0.m3u8`, audioRendition: false }],
      },
    ]);
  });

  it("reads the UI's tee form, used when the channel also publishes over RTMP", () => {
    const masters = hlsMastersOf({
      address: `[f=hls:start_number=0:hls_segment_filename=http\\://localhost/memfs/7d1f_output_0_%04d.ts:master_pl_name=7d1f.m3u8:master_pl_publish_rate=2:method=PUT]${memfs}/7d1f_output_0.m3u8|[f=flv]rtmp://localhost/7d1f.stream`,
      options: ['-flags', '+global_header', '-tag:v', '7', '-tag:a', '10', '-f', 'tee'],
    });

    expect(masters.map((master) => master.master)).toEqual([`${memfs}/7d1f.m3u8`]);
    expect(masters[0]!.variants[0]!.playlist).toBe(`${memfs}/7d1f_output_0.m3u8`);
  });

  it('names var_stream_map variants by name or index, and keeps audio renditions apart', () => {
    const [master] = hlsMastersOf({
      address: `${memfs}/live/out_%v.m3u8`,
      options: [
        '-f',
        'hls',
        '-var_stream_map',
        'v:0,agroup:aud,name:hd v:1,agroup:aud a:0,agroup:aud',
        '-master_pl_name',
        'main.m3u8',
      ],
    });

    expect(master!.master).toBe(`${memfs}/live/main.m3u8`);
    expect(master!.variants).toEqual([
      { playlist: `${memfs}/live/out_hd.m3u8`, audioRendition: false },
      { playlist: `${memfs}/live/out_1.m3u8`, audioRendition: false },
      { playlist: `${memfs}/live/out_2.m3u8`, audioRendition: true },
    ]);
  });

  it('finds none without -master_pl_name or for another muxer', () => {
    expect(hlsMastersOf({ address: `${memfs}/a.m3u8`, options: ['-f', 'hls'] })).toEqual([]);
    expect(
      hlsMastersOf({ address: `${memfs}/a.mpd`, options: ['-f', 'dash', '-master_pl_name', 'x'] }),
    ).toEqual([]);
  });

  it('indexes the variants of each master by process, relative to the master', () => {
    const index = new MasterPlaylistIndex();
    index.set(
      'cam',
      [
        {
          address: `${memfs}/hls/cam_%v.m3u8`,
          options: ['-f', 'hls', '-var_stream_map', 'v:0 v:1', '-master_pl_name', 'cam.m3u8'],
        },
      ],
      locate,
    );

    expect(index.variantsOf('mem', '/hls/cam.m3u8')).toEqual([
      { path: '/hls/cam_0.m3u8', uri: 'cam_0.m3u8' },
      { path: '/hls/cam_1.m3u8', uri: 'cam_1.m3u8' },
    ]);
    expect(index.variantsOf('disk', '/hls/cam.m3u8')).toBeUndefined();
    index.delete('cam');
    expect(index.variantsOf('mem', '/hls/cam.m3u8')).toBeUndefined();
  });
});
