import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AppendOutputOutsideStartError,
  FFmpegUnavailableError,
  ProcessConfigInvalidError,
  ProcessNotFoundError,
} from '../src/index.js';
import { cleanup, createManager, fakeFfmpeg, tempDir, waitFor } from './helpers.js';

afterEach(cleanup);

const process = (extra: Record<string, unknown> = {}) => ({
  id: 'p',
  input: [{ id: 'in', address: 'rtsp://127.0.0.1/cam' }],
  output: [{ id: 'out', address: '-', options: ['-f', 'null'] }],
  autostart: true,
  ...extra,
});

describe('supervision with a fake FFmpeg', () => {
  it('marks a non-zero exit failed and reconnects after the delay', async () => {
    const { binary } = fakeFfmpeg('echo "boom: connection refused" >&2; exit 3');
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    let starts = 0;
    manager.on('started', () => starts++);
    await manager.add(process({ reconnect: true, reconnect_delay_seconds: 1 }));
    await waitFor('a failure', () => manager.getState('p').exec === 'failed');
    const state = manager.getState('p');
    expect(state.last_logline).toBe('boom: connection refused');
    expect(state.reconnect_seconds).toBeGreaterThanOrEqual(0);
    await waitFor('a second start', () => starts >= 2);
    await manager.command('p', 'stop');
    const afterStop = starts;
    expect(manager.getState('p').reconnect_seconds).toBe(-1);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(starts).toBe(afterStop);
  });

  it('does not reconnect without reconnect, but restart always brings it back', async () => {
    const { binary } = fakeFfmpeg('exit 1');
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    let starts = 0;
    manager.on('started', () => starts++);
    await manager.add(process({ reconnect: false }));
    await waitFor('a failure', () => manager.getState('p').exec === 'failed');
    expect(manager.getState('p').reconnect_seconds).toBe(-1);
    await manager.command('p', 'restart');
    expect(starts).toBe(2);
  });

  it('kills a stale FFmpeg whose frame counter stopped', async () => {
    const { binary } = fakeFfmpeg('progress 1; progress 2; while true; do sleep 0.1; done');
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    await manager.add(process({ stale_timeout_seconds: 1 }));
    await waitFor('the stale kill', () => manager.getState('p').exec === 'killed', 10_000);
    const log = manager.getReport('p').log.map(([, line]) => line);
    expect(log.some((line) => line.includes('stale'))).toBe(true);
  });

  it('logs garbage on stderr without crashing', async () => {
    const { binary } = fakeFfmpeg(
      "head -c 3000 /dev/urandom >&2; printf '\\nframe=x\\n=\\n\\x00\\xff\\n' >&3; printf '\\ndone\\n' >&2; exit 0",
    );
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    await manager.add(process());
    await waitFor('the exit', () => manager.getState('p').exec === 'finished');
    expect(manager.getState('p').last_logline).toBe('done');
    expect(manager.getReport('p').prelude.length).toBeGreaterThan(1);
  });

  it('stops with SIGINT and reports finished', async () => {
    const { binary } = fakeFfmpeg('n=0; while true; do n=$((n+1)); progress $n; sleep 0.1; done');
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    await manager.add(process());
    await waitFor('progress', () => manager.getState('p').progress.frame > 2);
    await manager.command('p', 'stop');
    expect(manager.getState('p').exec).toBe('finished');
  });

  it('SIGKILLs an FFmpeg that ignores SIGINT and calls it finished', async () => {
    const { binary } = fakeFfmpeg("trap '' INT; while true; do sleep 0.1; done");
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true, stopTimeoutMs: 300 });
    await manager.add(process());
    await waitFor('running', () => manager.getState('p').exec === 'running');
    await manager.command('p', 'stop');
    expect(manager.getState('p').exec).toBe('finished');
  });
});

describe('hooks', () => {
  it('lets onStart append outputs for this start only, never to the stored config', async () => {
    const { binary, argsFile } = fakeFfmpeg('while true; do sleep 0.1; done');
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    manager.setHooks({
      onStart: (id) => manager.appendOutput(id, { address: 'udp://127.0.0.1:5000', options: ['-f', 'rtp'] }),
    });
    await manager.add(process());
    await waitFor('running', () => manager.getState('p').exec === 'running');
    await waitFor('the args file', () => readFileSync(argsFile, 'utf8').includes('udp://127.0.0.1:5000'));
    expect(manager.getState('p').command.slice(-3)).toEqual(['-f', 'rtp', 'udp://127.0.0.1:5000']);
    expect(manager.getConfig('p').output).toHaveLength(1);
    expect(() => manager.appendOutput('p', { address: 'x', options: [] })).toThrow(
      AppendOutputOutsideStartError,
    );
  });

  it('aborts the start when onStart throws, and reconnect retries it', async () => {
    const { binary } = fakeFfmpeg('while true; do sleep 0.1; done');
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    let attempts = 0;
    manager.setHooks({
      onStart: () => {
        attempts++;
        if (attempts === 1) throw new Error('no ports left');
      },
    });
    await manager.add(process({ reconnect: true, reconnect_delay_seconds: 1 }));
    await waitFor('the aborted start', () => manager.getState('p').exec === 'failed');
    expect(manager.getReport('p').history.at(-1)?.log[0]?.[1]).toContain('no ports left');
    await waitFor('the retry', () => manager.getState('p').exec === 'running');
    expect(attempts).toBe(2);
  });

  it('calls onStop after every exit, crashes included, with the exit code', async () => {
    const { binary } = fakeFfmpeg('exit 7');
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    const exits: (number | null)[] = [];
    manager.setHooks({ onStop: (_id, _config, exit) => void exits.push(exit.code) });
    await manager.add(process({ reconnect: true, reconnect_delay_seconds: 0 }));
    await waitFor('two crashes', () => exits.length >= 2);
    await manager.command('p', 'stop');
    expect(exits.slice(0, 2)).toEqual([7, 7]);
  });
});

describe('errors', () => {
  it('answers unknown ids and invalid configs with typed errors', async () => {
    const { binary } = fakeFfmpeg('exit 0');
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true });
    expect(() => manager.getState('nope')).toThrow(ProcessNotFoundError);
    await expect(manager.add({ input: [] } as never)).rejects.toBeInstanceOf(ProcessConfigInvalidError);
    await expect(manager.command('nope', 'start')).rejects.toBeInstanceOf(ProcessNotFoundError);
  });

  it('refuses to start without a working FFmpeg', async () => {
    await expect(createManager({ ffmpegBinary: `${tempDir()}/no-such-ffmpeg` })).rejects.toBeInstanceOf(
      FFmpegUnavailableError,
    );
    const { binary } = fakeFfmpeg('echo "ffmpeg version 3.4.8 Copyright"');
    await expect(createManager({ ffmpegBinary: binary })).rejects.toThrow(/older than 4.4/);
  });
});
