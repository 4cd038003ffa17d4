import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ProbeFailedError } from './errors.js';
import { probeInput } from './probe-input.js';

// ffprobe is a process boundary: these stand-ins answer as it would, so the parsing, the limits and
// the errors are tested without media. Real ffprobe runs in test/media-plan.slow.test.ts.
const dir = mkdtempSync(join(tmpdir(), 'dragon-probe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeProbe(name: string, script: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
  return path;
}

function answer(json: unknown): string {
  return `cat <<'EOF'\n${JSON.stringify(json)}\nEOF`;
}

async function failure(promise: Promise<unknown>): Promise<ProbeFailedError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ProbeFailedError);
  return error as ProbeFailedError;
}

const camera = {
  format: { format_name: 'rtsp' },
  streams: [
    {
      index: 0,
      codec_type: 'video',
      codec_name: 'h264',
      profile: 'Main',
      width: 1920,
      height: 1080,
      pix_fmt: 'yuvj420p',
      field_order: 'progressive',
      has_b_frames: 0,
      avg_frame_rate: '0/0',
      r_frame_rate: '25/1',
      disposition: { attached_pic: 0 },
    },
    { index: 1, codec_type: 'audio', codec_name: 'pcm_alaw', sample_rate: '8000', channels: 1 },
    { index: 2, codec_type: 'data', codec_name: 'bin_data' },
  ],
};
const inOrder = [0, 3600, 7200, 10_800].map((pts) => ({ stream_index: 0, pts }));

describe('probeInput', () => {
  it('runs ffprobe with the environment and working directory given', async () => {
    const record = join(dir, 'seen.txt');
    const ffprobeBinary = fakeProbe(
      'environment',
      `echo "secret=$DRAGON_SECRET cwd=$(pwd)" > ${record}\n${answer({ ...camera, packets: inOrder })}`,
    );
    process.env.DRAGON_SECRET = 'leaked';
    try {
      await probeInput(
        { address: 'rtsp://10.0.0.2/main' },
        { ffprobeBinary, env: { PATH: process.env.PATH ?? '' }, cwd: tmpdir() },
      );
    } finally {
      delete process.env.DRAGON_SECRET;
    }
    expect(readFileSync(record, 'utf8').trim()).toBe(`secret= cwd=${tmpdir()}`);
  });

  it('reads the streams, with B-frames absent when neither the SPS nor the packets show them', async () => {
    const ffprobeBinary = fakeProbe('camera', answer({ ...camera, packets: inOrder }));
    const facts = await probeInput({ address: 'rtsp://10.0.0.2/main' }, { ffprobeBinary });
    expect(facts).toEqual({
      source: 'probe',
      format: 'rtsp',
      listening: false,
      streams: [
        {
          index: 0,
          kind: 'video',
          codec: 'h264',
          profile: 'Main',
          width: 1920,
          height: 1080,
          fps: 25,
          pix_fmt: 'yuvj420p',
          field_order: 'progressive',
          has_b_frames: 0,
          reorders: false,
        },
        { index: 1, kind: 'audio', codec: 'pcm_alaw', sample_rate: 8000, channels: 1 },
        { index: 2, kind: 'other', codec: 'bin_data' },
      ],
    });
  });

  it('sees B-frames in the packet order of a stream whose SPS does not declare them', async () => {
    // A camera SPS without VUI bitstream_restriction: the decoder starts at has_b_frames 0.
    const reordered = [0, 10_800, 3600, 7200].map((pts) => ({ stream_index: 0, pts }));
    const ffprobeBinary = fakeProbe('reordered', answer({ ...camera, packets: reordered }));
    const facts = await probeInput({ address: 'rtsp://10.0.0.2/main' }, { ffprobeBinary });
    expect(facts.streams[0]).toMatchObject({ has_b_frames: 0, reorders: true });
  });

  it('takes has_b_frames above 0 as B-frames', async () => {
    const declared = { ...camera, streams: [{ ...camera.streams[0], has_b_frames: 2 }] };
    const ffprobeBinary = fakeProbe('declared', answer({ ...declared, packets: inOrder }));
    const facts = await probeInput({ address: 'in.mp4' }, { ffprobeBinary });
    expect(facts.streams[0]).toMatchObject({ reorders: true });
  });

  it('reads the duration of an input that has an end, and none of a live one', async () => {
    const file = { format: { format_name: 'mpegts', duration: '80.040000' }, streams: camera.streams };
    const live = { format: { format_name: 'mpegts', duration: 'N/A' }, streams: camera.streams };
    const fromFile = await probeInput(
      { address: 'http://cdn/clip.ts' },
      { ffprobeBinary: fakeProbe('file', answer(file)) },
    );
    const fromLive = await probeInput(
      { address: 'http://cdn/live.ts' },
      { ffprobeBinary: fakeProbe('live', answer(live)) },
    );
    const fromCamera = await probeInput(
      { address: 'rtsp://10.0.0.2/main' },
      { ffprobeBinary: fakeProbe('rtsp', answer(camera)) },
    );
    expect(fromFile.duration).toBe(80.04);
    expect(fromLive).not.toHaveProperty('duration');
    expect(fromCamera).not.toHaveProperty('duration');
  });

  it('marks cover art, which is not a video track', async () => {
    const cover = {
      format: { format_name: 'mp3' },
      streams: [
        { index: 0, codec_type: 'audio', codec_name: 'mp3', sample_rate: '44100', channels: 2 },
        { index: 1, codec_type: 'video', codec_name: 'png', disposition: { attached_pic: 1 } },
      ],
    };
    const ffprobeBinary = fakeProbe('cover', answer(cover));
    const facts = await probeInput({ address: 'song.mp3' }, { ffprobeBinary });
    expect(facts.streams[1]).toMatchObject({ kind: 'video', attached_pic: true });
  });

  it('applies the input options ffprobe knows and puts the address after -i', async () => {
    const argsFile = join(dir, 'args.txt');
    const ffprobeBinary = fakeProbe('args', `printf '%s\\n' "$@" > '${argsFile}'\n${answer(camera)}`);
    await probeInput(
      {
        address: '-odd name.ts',
        options: ['-re', '-f', 'mpegts', '-c:v', 'h264_cuvid', '-rtsp_transport', 'tcp'],
      },
      { ffprobeBinary, packets: 30 },
    );
    const args = readFileSync(argsFile, 'utf8').trimEnd().split('\n');
    expect(args).toEqual([
      ...['-hide_banner', '-v', 'error', '-of', 'json', '-show_format', '-show_streams'],
      ...['-show_entries', 'packet=stream_index,pts,dts', '-read_intervals', '%+#30'],
      ...['-f', 'mpegts', '-rtsp_transport', 'tcp', '-i', '-odd name.ts'],
    ]);
  });

  it('fails with ffprobe last message, the address credentials redacted', async () => {
    // Like ffprobe, the stand-in names the address it could not open.
    const ffprobeBinary = fakeProbe(
      'unauthorized',
      'for arg; do address=$arg; done\necho "[rtsp @ 0x1] method DESCRIBE failed" >&2\necho "$address: Server returned 401 Unauthorized" >&2\nexit 1',
    );
    const error = await failure(
      probeInput({ address: 'rtsp://admin:hunter2@10.0.0.2/main' }, { ffprobeBinary }),
    );
    expect(error).toMatchObject({ failure: 'exit', code: 'PROBE_FAILED', context: { exitCode: 1 } });
    expect(error.reason).toBe('rtsp://***@10.0.0.2/main: Server returned 401 Unauthorized');
    expect(error.message).not.toContain('hunter2');
  });

  it('kills a probe that does not answer in time', async () => {
    const ffprobeBinary = fakeProbe('silent', 'exec sleep 30');
    const error = await failure(
      probeInput({ address: 'udp://0.0.0.0:1234' }, { ffprobeBinary, timeoutMs: 200 }),
    );
    expect(error).toMatchObject({ failure: 'timeout', context: { timeoutMs: 200 } });
  });

  it('stops when the caller aborts', async () => {
    const ffprobeBinary = fakeProbe('slow', 'exec sleep 30');
    const controller = new AbortController();
    const probing = probeInput(
      { address: 'udp://0.0.0.0:1234' },
      { ffprobeBinary, signal: controller.signal },
    );
    controller.abort();
    expect((await failure(probing)).failure).toBe('aborted');
  });

  it('fails to spawn a missing binary without quoting the address', async () => {
    const error = await failure(
      probeInput({ address: 'rtsp://u:secret@h/s' }, { ffprobeBinary: join(dir, 'no-such-ffprobe') }),
    );
    expect(error.failure).toBe('spawn');
    expect(`${error.message} ${String(error.cause)}`).not.toContain('secret');
  });

  it('rejects an answer that is not ffprobe JSON', async () => {
    const ffprobeBinary = fakeProbe('garbage', 'echo "not json"');
    expect((await failure(probeInput({ address: 'in.mp4' }, { ffprobeBinary }))).failure).toBe('output');
    const wrongShape = fakeProbe('wrong-shape', answer({ streams: [{ index: 'zero' }] }));
    expect((await failure(probeInput({ address: 'in.mp4' }, { ffprobeBinary: wrongShape }))).failure).toBe(
      'output',
    );
  });

  it('does not probe a listening input: it would take the publisher connection', async () => {
    const argsFile = join(dir, 'listening-args.txt');
    const ffprobeBinary = fakeProbe('listening', `touch '${argsFile}'\n${answer(camera)}`);
    const error = await failure(
      probeInput({ address: 'rtmp://0.0.0.0:1935/live/cam', options: ['-listen', '1'] }, { ffprobeBinary }),
    );
    expect(error.failure).toBe('listening');
    expect(() => readFileSync(argsFile)).toThrow();
  });
});
