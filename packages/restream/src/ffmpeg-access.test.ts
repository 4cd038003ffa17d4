import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processConfigSchema } from './config-schema.js';
import { FFmpegAccessDeniedError } from './errors.js';
import { FFmpegAccess, ffmpegAccessSchema } from './ffmpeg-access.js';

const dataDir = mkdtempSync(join(tmpdir(), 'dragon-access-'));
const configFile = join(dataDir, 'config.json');
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const access = (options: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}) =>
  new FFmpegAccess(
    ffmpegAccessSchema.parse({ protectedPaths: [configFile], ...options }),
    { cwd: dataDir, storeFile: join(dataDir, 'db.json'), defaultOutputDirectory: dataDir },
    env,
  );

const process = (
  input: { address: string; options?: string[] },
  output = { address: '-', options: [] as string[] },
) =>
  processConfigSchema.parse({
    id: 'p',
    input: [{ id: 'in', ...input }],
    output: [{ id: 'out', ...output }],
  });

const denial = (check: () => void): FFmpegAccessDeniedError | undefined => {
  try {
    check();
  } catch (error) {
    if (error instanceof FFmpegAccessDeniedError) return error;
    throw error;
  }
  return undefined;
};

describe('FFmpegAccess', () => {
  const policy = access();

  it.each([
    ['/proc/self/environ'],
    ['file:/proc/self/environ'],
    ['/proc/1/environ'],
    ['/sys/class/net'],
    ['async:file:/proc/self/environ'],
    ['concat:/tmp/a.ts|/proc/self/environ'],
    ['subfile,,start,0,end,0,,:/proc/self/environ'],
    ['movie=/proc/self/environ[out0]'],
    ["movie=filename='/pro\\c/self/environ'"],
    ['/dev/fd/../environ'],
    ['/dev/stdin'],
    ['config.json'],
    ['db.json'],
  ])('refuses the input %s', (address) => {
    expect(denial(() => policy.check('p', process({ address })))).toBeInstanceOf(FFmpegAccessDeniedError);
  });

  it('refuses the config file, the store and their temp and backup copies by absolute path', () => {
    for (const address of [
      configFile,
      `${configFile}.4242.tmp`,
      `${configFile}.bak`,
      join(dataDir, 'db.json'),
      join(dataDir, 'db.json.123.tmp'),
      join(dataDir, 'db.json.corrupt-2026-01-01T00-00-00.000Z'),
    ]) {
      expect(
        denial(() => policy.check('p', process({ address }))),
        address,
      ).toBeDefined();
    }
  });

  it('refuses a protected path hidden in an option, e.g. a second -i or -attach', () => {
    const check = (options: string[]) =>
      denial(() => policy.check('p', process({ address: 'testsrc2', options })));
    expect(check(['-f', 'lavfi', '-i', '/proc/self/environ'])).toBeDefined();
    expect(check(['-attach', configFile])).toBeDefined();
    expect(check(['-f', 'lavfi'])).toBeUndefined();
  });

  it('refuses a symbolic link that points at a protected path', () => {
    const link = join(dataDir, 'innocent.txt');
    symlinkSync('/proc/self/environ', link);
    expect(denial(() => policy.check('p', process({ address: link })))).toBeDefined();
  });

  it.each([
    ['rtsp://user:pass@camera/proc/stream'],
    ['http://127.0.0.1:8080/memfs/live.m3u8'],
    ['srt://127.0.0.1:6000?mode=listener'],
    ['testsrc2=size=640x360:rate=25'],
    ['/media/videos/film.mp4'],
    ['-'],
  ])('allows the input %s', (address) => {
    expect(denial(() => policy.check('p', process({ address })))).toBeUndefined();
  });

  it.each([
    ['-'],
    ['pipe:1'],
    ['/dev/null'],
    ['rtmp://127.0.0.1/live/stream'],
    ['udp://127.0.0.1:5000?pkt_size=1316'],
    ['http://127.0.0.1:8080/memfs/live.m3u8'],
    ['hls+http://example.com/x'],
    [join(dataDir, 'hls', 'live.m3u8')],
    [`file:${join(dataDir, 'out.ts')}`],
    ['relative/out.ts'],
    [`[f=mpegts]${join(dataDir, 'a.ts')}|[f=flv]rtmp://127.0.0.1/live/b`],
  ])('allows the output %s', (address) => {
    expect(
      denial(() => policy.check('p', process({ address: 'x' }, { address, options: [] }))),
    ).toBeUndefined();
  });

  it.each([
    ['/etc/cron.d/evil'],
    ['file:/tmp/x.ts'],
    ['tee:/tmp/a.ts|/tmp/b.ts'],
    [`[f=mpegts]${join(dataDir, 'a.ts')}|[f=mpegts]/tmp/b.ts`],
    ['md5:/tmp/sum'],
    ['unix:/run/some.sock'],
    ['gopher2://x'],
    [join(dataDir, 'db.json')],
    [configFile],
    ['relative/../../etc/x'],
  ])('refuses the output %s', (address) => {
    expect(
      denial(() => policy.check('p', process({ address: 'x' }, { address, options: [] }))),
    ).toBeDefined();
  });

  it('applies datarhei allow and block lists: block first, then an allow match if any are given', () => {
    const lists = access({
      input: { allow: ['^rtsp://', '^srt://'], block: ['^rtsp://blocked'] },
      output: { block: ['^file:.*\\.mp4$'] },
    });
    const input = (address: string) => denial(() => lists.check('p', process({ address })));
    expect(input('rtsp://camera/stream')).toBeUndefined();
    expect(input('rtsp://blocked/stream')?.reason).toContain('the address is not allowed');
    expect(input('http://elsewhere/x')).toBeDefined();
    const output = (address: string) =>
      denial(() => lists.check('p', process({ address: 'srt://x' }, { address, options: [] })));
    expect(output(join(dataDir, 'a.ts'))).toBeUndefined();
    expect(output(join(dataDir, 'a.mp4'))).toBeDefined();
  });

  it('follows symbolic links of output directories and paths', () => {
    const linked = join(dataDir, 'linked-media');
    symlinkSync(dataDir, linked);
    const viaLink = access({ outputDirectories: [linked] });
    const output = (address: string) =>
      denial(() => viaLink.check('p', process({ address: 'x' }, { address, options: [] })));
    expect(output(join(linked, 'a.ts'))).toBeUndefined();
    expect(output(join(dataDir, 'a.ts'))).toBeUndefined();
    const outward = join(dataDir, 'outward');
    symlinkSync('/tmp', outward);
    expect(output(join(outward, 'a.ts'))).toBeDefined();
  });

  it('lets outputs write only into the configured directories', () => {
    const elsewhere = access({ outputDirectories: ['/srv/media'] });
    const output = (address: string) =>
      denial(() => elsewhere.check('p', process({ address: 'x' }, { address, options: [] })));
    expect(output('/srv/media/a.ts')).toBeUndefined();
    expect(output('/srv/media-evil/a.ts')).toBeDefined();
    expect(output(join(dataDir, 'a.ts'))).toBeDefined();
  });

  it('hands FFmpeg only the listed environment variables', () => {
    const env = { PATH: '/usr/bin', LANG: 'C.UTF-8', CORE_API_AUTH_PASSWORD: 'secret', HOME: '/root' };
    expect(access({}, env).environment).toEqual({ PATH: '/usr/bin', LANG: 'C.UTF-8' });
    expect(access({ environment: ['PATH', 'HOME'] }, env).environment).toEqual({
      PATH: '/usr/bin',
      HOME: '/root',
    });
  });

  it('refuses a regular expression that does not compile', () => {
    expect(ffmpegAccessSchema.safeParse({ input: { allow: ['('] } }).success).toBe(false);
  });
});

describe('FFmpegAccess judges what FFmpeg will open', () => {
  const policy = access();
  const config = (extra: {
    options?: string[];
    input?: { address: string; options?: string[] };
    output?: { address: string; options?: string[] };
  }) =>
    processConfigSchema.parse({
      id: 'p',
      options: extra.options ?? [],
      input: [{ id: 'in', ...(extra.input ?? { address: 'testsrc2', options: ['-f', 'lavfi'] }) }],
      output: [{ id: 'out', ...(extra.output ?? { address: '-', options: ['-f', 'null'] }) }],
    });
  const refused = (extra: Parameters<typeof config>[0]) => denial(() => policy.check('p', config(extra)));
  const lavfi = (graph: string) => refused({ input: { address: graph, options: ['-f', 'lavfi'] } });
  const outputOptions = (...options: string[]) =>
    refused({ output: { address: join(dataDir, 'out.ts'), options } });

  it.each([
    ["amovie='/pr''oc/self/environ':f=u8"],
    ["amovie='/pr'\\''oc/1/environ'"],
    ['amovie=/pr\\\\oc/self/environ'],
    [`movie='${dataDir}/con''fig.json'`],
    [`movie=filename='${dataDir.slice(0, 4)}''${dataDir.slice(4)}/db.json'`],
    ["'amo''vie'='/pr''oc/self/environ'"],
    ['amovie=subfile\\\\,|start|0|end|0||\\\\:/proc/self/environ'],
    ["amovie='concat:/dev/null|/pr''oc/self/environ'"],
    ["movie=f=lavfi:filename='amovie=/pr\\\\'\\\\'oc/self/environ'"],
    ["movie=x.mp4:format_opts='safe=0'"],
    ['movie=list.txt:concat'],
    ["nullsrc,drawtext=textfile='/pr''oc/self/environ'"],
    ["nullsrc,drawtext='/pr''oc/self/environ'"],
    ['nullsrc,drawtext=/textfile=/tmp/x.txt'],
    [`nullsrc,lut3d='${configFile}'`],
    [`nullsrc,subtitles=filename='${configFile}'`],
    ['nullsrc,sendcmd=f=/tmp/commands.txt'],
    ["nullsrc,sendcmd=c='0 drawtext reinit textfile=/tmp/x',drawtext=text=x"],
    ["nullsrc,sendcmd=c='0 lut1d file /tmp/x.cube',lut1d"],
    ['nullsrc,zmq'],
    ['nullsrc,frei0r=filter_name=/tmp/evil'],
    ['anullsrc,ladspa=../../tmp/evil:p'],
    ['nullsrc,metadata=print:file=/tmp/metadata.txt'],
    ['nullsrc,psnr=/etc/cron.d/psnr'],
    ['nullsrc[a'],
  ])('refuses the lavfi input %s', (graph) => {
    expect(lavfi(graph)).toBeInstanceOf(FFmpegAccessDeniedError);
  });

  it.each([
    ['testsrc2=size=1280x720:rate=25'],
    ['anullsrc=r=44100:cl=stereo'],
    ["nullsrc,drawtext=text='Live\\: %{localtime}':fontsize=24"],
    ['nullsrc,drawtext=fontfile=/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf:text=hi'],
    [`nullsrc,vidstabdetect=result=${join(dataDir, 'transforms.trf')}`],
    ["nullsrc,sendcmd=c='0 hue s 0',hue"],
    [`movie=${join(dataDir, 'clip.mp4')}`],
  ])('allows the lavfi input %s', (graph) => {
    expect(lavfi(graph)).toBeUndefined();
  });

  it("refuses a filter's default file when it lies outside the output directories", () => {
    const elsewhere = access({ outputDirectories: ['/srv/media'] });
    const vidstab = (graph: string) =>
      denial(() => elsewhere.check('p', config({ input: { address: graph, options: ['-f', 'lavfi'] } })));
    expect(vidstab('nullsrc,vidstabdetect')?.reason).toContain('transforms.trf');
    expect(vidstab('nullsrc,vidstabdetect=result=/srv/media/t.trf')).toBeUndefined();
  });

  it('judges filter graphs in -vf, -af, -filter:v and -filter_complex', () => {
    const exploit = "amovie='/pr''oc/self/environ':f=u8";
    expect(refused({ options: ['-filter_complex', exploit] })).toBeDefined();
    expect(outputOptions('-vf', `movie='${configFile}'[m];[in][m]overlay`)).toBeDefined();
    expect(outputOptions('-filter:a', exploit)).toBeDefined();
    expect(outputOptions('-af', 'volume=0.5', '-vf', 'scale=640:-2')).toBeUndefined();
  });

  it.each([
    [['-filter_complex_script', '/tmp/graph.txt']],
    [['-/filter_complex', '/tmp/graph.txt']],
    [['-report']],
    [['-progress', '/tmp/progress.txt']],
    [['-sdp_file', '/etc/x.sdp']],
    [['-dump_attachment:t', '']],
  ])('refuses the global options %j', (options) => {
    expect(refused({ options })).toBeDefined();
  });

  it.each([
    [['-f', 'concat'], join(dataDir, 'list.txt')],
    [['-safe', '0'], join(dataDir, 'list.ffconcat')],
    [['-allowed_extensions', 'ALL'], join(dataDir, 'list.m3u8')],
    [['-enable_drefs', '1'], join(dataDir, 'clip.mov')],
    [['-f', 'lavfi', '-graph_file', '/tmp/graph.txt'], 'dummy'],
    [[], 'concatf:/tmp/list.txt'],
    [[], 'subfile,#start#0#end#0##:/proc/self/environ'],
    [[], '/pro?/self/environ'],
    [['-pattern_type', 'glob'], '/p*/self/environ'],
    [[], `${dataDir}/*.json`],
    [[], 'hls+file:/tmp/list.m3u8'],
    [[], `crypto+file:${configFile}`],
  ])('refuses the input options %j with %s', (options, address) => {
    expect(refused({ input: { address, options } })).toBeDefined();
  });

  it.each([
    [['-hls_segment_filename', '/tmp/segment_%03d.ts', '-f', 'hls']],
    [['-master_pl_name', '../../etc/master.m3u8', '-f', 'hls']],
    [['-x264-params', 'dump-yuv=/etc/cron.d/x']],
    [['-x264-params', "qpfile='/pr''oc/self/environ'"]],
    [['-pass', '1']],
    [['-passlogfile', '/tmp/pass']],
    [['-vpre', '../../tmp/x']],
    [['-fpre', '/tmp/x.ffpreset']],
    [['-vstats']],
  ])('refuses the output options %j', (options) => {
    expect(outputOptions(...options)).toBeDefined();
  });

  it('allows what Restreamer sends for HLS into the memfs and the disk filesystem', () => {
    const memfs = 'http://admin:secret@127.0.0.1:8080/memfs';
    const hls = [
      '-f',
      'hls',
      '-start_number',
      '0',
      '-hls_time',
      '2',
      '-hls_list_size',
      '6',
      '-hls_flags',
      'append_list+delete_segments+program_date_time+temp_file',
      '-hls_segment_filename',
      `${memfs}/cam_out_%04d.ts`,
      '-master_pl_name',
      'cam.m3u8',
      '-method',
      'PUT',
    ];
    expect(
      denial(() => policy.check('p', config({ output: { address: `${memfs}/cam_out.m3u8`, options: hls } }))),
    ).toBeUndefined();
    const disk = [
      '-f',
      'hls',
      '-hls_segment_filename',
      join(dataDir, 'cam_%04d.ts'),
      '-master_pl_name',
      'cam.m3u8',
    ];
    expect(
      denial(() =>
        policy.check('p', config({ output: { address: join(dataDir, 'cam_out.m3u8'), options: disk } })),
      ),
    ).toBeUndefined();
    const input = {
      address: 'rtsp://user:pass@192.168.1.10:554/stream1',
      options: [
        '-fflags',
        '+genpts',
        '-thread_queue_size',
        '512',
        '-probesize',
        '5000000',
        '-rtsp_transport',
        'tcp',
        '-noautorotate',
      ],
    };
    expect(denial(() => policy.check('p', config({ input })))).toBeUndefined();
    const encode = [
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-x264-params',
      'keyint=50:scenecut=0',
      '-autorotate',
      '0',
    ];
    expect(outputOptions(...encode)).toBeUndefined();
  });

  it('judges tee slaves and their options', () => {
    const tee = (address: string) => refused({ output: { address, options: ['-f', 'tee'] } });
    expect(
      tee(`[f=flv:onfail=ignore]rtmp://127.0.0.1/live/a|[f=mpegts]${join(dataDir, 'b.ts')}`),
    ).toBeUndefined();
    expect(tee(`[f=hls:hls_segment_filename=/tmp/x%d.ts]${join(dataDir, 'a.m3u8')}`)).toBeDefined();
    expect(tee(`'[f=mpegts]/tmp/a.ts'|${join(dataDir, 'b.ts')}`)).toBeDefined();
  });

  it('refuses options that would attach to the server own outputs, and addresses read as options', () => {
    expect(refused({ output: { address: 'title=x', options: ['-f', 'null', '-metadata'] } })).toBeDefined();
    expect(refused({ output: { address: '-i', options: [] } })).toBeDefined();
  });
});
