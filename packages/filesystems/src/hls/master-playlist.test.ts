import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemFilesystem } from '../mem-filesystem.js';
import { h264FromSps, hevcCodecString } from './codec-strings.js';
import { parseAttributes, parseMediaPlaylist } from './m3u8.js';
import { MasterPlaylists } from './master-playlist.js';
import { mp4Tracks } from './mp4-tracks.js';
import { mpegTsTracks } from './mpegts-tracks.js';

const media = (segments: [string, number][]) =>
  `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n${segments.map(([uri, seconds]) => `#EXTINF:${seconds},\n${uri}`).join('\n')}\n`;

async function memfsWith(files: Record<string, string | Buffer>) {
  const mem = new MemFilesystem();
  for (const [path, body] of Object.entries(files)) await mem.write(path, Buffer.from(body));
  return mem;
}

describe('master playlist completion', () => {
  it('adds the known variant to an empty master, its bandwidth from the segment sizes', async () => {
    const mem = await memfsWith({
      '/cam_output_0.m3u8': media([
        ['cam_output_0_0000.ts', 2],
        ['cam_output_0_0001.ts', 2],
        ['cam_output_0_0002.ts', 0.2],
      ]),
      '/cam_output_0_0000.ts': Buffer.alloc(50_000),
      '/cam_output_0_0001.ts': Buffer.alloc(100_000),
      '/cam_output_0_0002.ts': Buffer.alloc(40_000),
    });
    const playlists = new MasterPlaylists(mem, {
      variantsOf: (path) =>
        path === '/cam.m3u8' ? [{ path: '/cam_output_0.m3u8', uri: 'cam_output_0.m3u8' }] : undefined,
    });

    const text = await playlists.complete('/cam.m3u8', '#EXTM3U\n#EXT-X-VERSION:3\n');

    // Peak 100 000 B / 2 s (the 0.2 s segment is shorter than half the target); average over all.
    expect(text).toBe(
      '#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-STREAM-INF:BANDWIDTH=400000,AVERAGE-BANDWIDTH=361905\ncam_output_0.m3u8\n',
    );
  });

  it('keeps a declared BANDWIDTH above the measured one, and media playlists as they are', async () => {
    const mem = await memfsWith({ '/v.m3u8': media([['s.ts', 1]]), '/s.ts': Buffer.alloc(1000) });
    const playlists = new MasterPlaylists(mem);

    const master = await playlists.complete(
      '/m.m3u8',
      '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=90000\nv.m3u8\n',
    );
    const variant = await playlists.complete('/v.m3u8', media([['s.ts', 1]]));

    expect(master).toContain('BANDWIDTH=90000,AVERAGE-BANDWIDTH=8000\nv.m3u8');
    expect(variant).toBe(media([['s.ts', 1]]));
  });

  it('leaves a master alone whose variants nobody knows', async () => {
    const playlists = new MasterPlaylists(await memfsWith({}));

    expect(await playlists.complete('/x.m3u8', '#EXTM3U\n#EXT-X-VERSION:3\n')).toBe(
      '#EXTM3U\n#EXT-X-VERSION:3\n',
    );
  });

  it('never reads outside its filesystem or fails on hostile playlists and segments', async () => {
    const mem = await memfsWith({
      '/v.m3u8': media([
        ['../../etc/passwd', 1],
        ['%zz', 1],
        ['http://x/s.ts', 1],
      ]),
    });
    const playlists = new MasterPlaylists(mem);

    const text = await playlists.complete(
      '/m.m3u8',
      '#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n#EXT-X-STREAM-INF:\n../up.m3u8',
    );

    expect(text).toContain('BANDWIDTH=1\nv.m3u8');
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        mpegTsTracks(bytes);
        mp4Tracks(bytes);
        h264FromSps(Uint8Array.of(0x67, ...bytes));
      }),
    );
  });
});

describe('playlist syntax', () => {
  it('reads attribute lists with quoted commas and media segments with byte ranges', () => {
    expect(parseAttributes('BANDWIDTH=1,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=640x360')).toEqual([
      ['BANDWIDTH', '1'],
      ['CODECS', '"avc1.64001f,mp4a.40.2"'],
      ['RESOLUTION', '640x360'],
    ]);
    expect(
      parseMediaPlaylist(
        '#EXTM3U\n#EXT-X-MAP:URI="init.mp4"\n#EXTINF:2.0,\n#EXT-X-BYTERANGE:1000@0\nall.mp4\n',
      ),
    ).toEqual({ map: 'init.mp4', segments: [{ uri: 'all.mp4', duration: 2, byteLength: 1000 }] });
  });

  it('writes H.265 codec strings as ISO/IEC 14496-15 Annex E does', () => {
    // Apple's HLS authoring examples: Main 10, level 5.1 → hvc1.2.4.L153.B0.
    const main10 = { profileSpace: 0, tier: 0, profileIdc: 2, compatibility: 0x20000000, levelIdc: 153 };
    expect(hevcCodecString({ ...main10, constraints: [0xb0, 0, 0, 0, 0, 0] })).toBe('hvc1.2.4.L153.B0');
  });
});
