import { existsSync, readFileSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AppendOutputOutsideStartError,
  FFmpegSpawnError,
  HookAbortedError,
  NoSuchInputError,
  type StartContext,
  type StopContext,
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

const runForever = 'while true; do sleep 0.1; done';

/** Records what the hooks are told, as `id:reason:comingBack` for stops. */
function recorder() {
  const starts: StartContext[] = [];
  const stops: StopContext[] = [];
  return {
    starts,
    stops,
    events: [] as string[],
    hooks: {
      onStart(context: StartContext) {
        starts.push(context);
      },
      onStop(context: StopContext) {
        stops.push(context);
      },
    },
    stopLines: () => stops.map((stop) => `${stop.id}:${stop.reason}:${stop.comingBack}`),
  };
}

describe('onStart', () => {
  it('appends outputs for this start only, never to the stored config, and closes after it settled', async () => {
    const { binary, argsFile } = fakeFfmpeg(runForever);
    let context: StartContext | undefined;
    const manager = await createManager({
      ffmpegBinary: binary,
      skipSkills: true,
      hooks: {
        onStart: (start) => {
          context = start;
          start.appendOutput({ address: `udp://127.0.0.1:5000?id=${start.id}`, options: ['-f', 'rtp'] });
          start.note('webrtc legs added');
        },
      },
    });
    await manager.add(process({ input: [{ id: 'in', address: 'rtsp://{processid}.local/cam' }] }));
    await waitFor('running', () => manager.getState('p').exec === 'running');
    await waitFor('the args file', () =>
      readFileSync(argsFile, 'utf8').includes('udp://127.0.0.1:5000?id=p'),
    );
    expect(manager.getState('p').command.slice(-3)).toEqual(['-f', 'rtp', 'udp://127.0.0.1:5000?id=p']);
    expect(manager.getConfig('p').output).toHaveLength(1);
    expect(context?.config.input[0]?.address).toBe('rtsp://{processid}.local/cam');
    expect(context?.expanded.input[0]?.address).toBe('rtsp://p.local/cam');
    expect(manager.getReport('p').log.map(([, line]) => line)).toContain('webrtc legs added');
    expect(() => context?.appendOutput({ address: 'x', options: [] })).toThrow(AppendOutputOutsideStartError);
  });

  it('puts options before an input’s own for this start only, and refuses an input there is not', async () => {
    const { binary, argsFile } = fakeFfmpeg(runForever);
    let context: StartContext | undefined;
    let refused: unknown;
    const manager = await createManager({
      ffmpegBinary: binary,
      skipSkills: true,
      hooks: {
        onStart: (start) => {
          context = start;
          start.addInputOptions(0, ['-re']);
          try {
            start.addInputOptions(1, ['-re']);
          } catch (error) {
            refused = error;
          }
        },
      },
    });
    await manager.add(
      process({
        input: [{ id: 'in', address: 'https://cdn.example/live.m3u8', options: ['-user_agent', 'x'] }],
      }),
    );
    await waitFor('running', () => manager.getState('p').exec === 'running');

    const command = manager.getState('p').command;
    const at = command.indexOf('https://cdn.example/live.m3u8');
    expect(command.slice(at - 4, at + 1)).toEqual([
      '-re',
      '-user_agent',
      'x',
      '-i',
      'https://cdn.example/live.m3u8',
    ]);
    await waitFor('FFmpeg given them', () =>
      readFileSync(argsFile, 'utf8').includes('-re\n-user_agent\nx\n-i\nhttps://cdn.example/live.m3u8\n'),
    );
    expect(manager.getConfig('p').input[0]?.options).toEqual(['-user_agent', 'x']);
    expect(refused).toBeInstanceOf(NoSuchInputError);
    expect(() => context?.addInputOptions(0, ['-re'])).toThrow(AppendOutputOutsideStartError);
  });

  it('starts restored processes with their hooks after the manager restarts', async () => {
    const dataDir = tempDir();
    const { binary, argsFile } = fakeFfmpeg(runForever);
    const hooks = {
      onStart: (start: StartContext) =>
        start.appendOutput({ id: 'webrtc_video', address: 'udp://127.0.0.1:40000', options: ['-f', 'rtp'] }),
    };
    const first = await createManager({ dataDir, ffmpegBinary: binary, skipSkills: true, hooks });
    await first.add(process({ reconnect: false }));
    await waitFor('running', () => first.getState('p').exec === 'running');
    await first.close();

    const second = await createManager({ dataDir, ffmpegBinary: binary, skipSkills: true, hooks });
    await waitFor('the restored process running', () => second.getState('p').exec === 'running');
    expect(second.getState('p').command.slice(-3)).toEqual(['-f', 'rtp', 'udp://127.0.0.1:40000']);
    await waitFor('its args', () => readFileSync(argsFile, 'utf8').includes('udp://127.0.0.1:40000'));
  });

  it('spawns nothing for a restored process whose onStart refuses the start (a gate)', async () => {
    const dataDir = tempDir();
    const { binary, argsFile } = fakeFfmpeg(runForever);
    const first = await createManager({ dataDir, ffmpegBinary: binary, skipSkills: true });
    await first.add(process({ reconnect: true, reconnect_delay_seconds: 1 }));
    await waitFor('running', () => first.getState('p').exec === 'running');
    // `running` is the spawn; the script writes its arguments a moment later (much later on a busy machine).
    await waitFor('its args', () => existsSync(argsFile));
    await first.close();
    rmSync(argsFile);

    let refusals = 0;
    const second = await createManager({
      dataDir,
      ffmpegBinary: binary,
      skipSkills: true,
      hooks: {
        onStart: async () => {
          refusals++;
          throw new Error('another node runs it');
        },
      },
    });
    await waitFor('a refused start retried', () => refusals >= 2 && second.getState('p').exec === 'failed');
    expect(second.getState('p').order).toBe('start');
    expect(second.getState('p').last_logline).toContain('another node runs it');
    expect(existsSync(argsFile)).toBe(false);
  });

  it('gives two processes that start at the same time a context each', async () => {
    const { binary } = fakeFfmpeg(runForever);
    const entered: string[] = [];
    let releaseBoth!: () => void;
    const bothInside = new Promise<void>((resolve) => {
      releaseBoth = resolve;
    });
    const manager = await createManager({
      ffmpegBinary: binary,
      skipSkills: true,
      hooks: {
        onStart: async (start) => {
          entered.push(start.id);
          if (entered.length === 2) releaseBoth();
          await bothInside;
          start.appendOutput({ address: `udp://127.0.0.1:5000?for=${start.id}`, options: ['-f', 'rtp'] });
        },
      },
    });
    await Promise.all([manager.add(process({ id: 'one' })), manager.add(process({ id: 'two' }))]);
    await waitFor('both running', () =>
      ['one', 'two'].every((id) => manager.getState(id).exec === 'running'),
    );
    expect(manager.getState('one').command.at(-1)).toBe('udp://127.0.0.1:5000?for=one');
    expect(manager.getState('two').command.at(-1)).toBe('udp://127.0.0.1:5000?for=two');
  });

  it('aborts the start when onStart throws, tells onStop why, and reconnect retries it', async () => {
    const { binary } = fakeFfmpeg(runForever);
    let attempts = 0;
    const stops: StopContext[] = [];
    const manager = await createManager({
      ffmpegBinary: binary,
      skipSkills: true,
      hooks: {
        onStart: () => {
          attempts++;
          if (attempts === 1) throw new Error('no ports left');
        },
        onStop: (stop) => void stops.push(stop),
      },
    });
    await manager.add(process({ reconnect: true, reconnect_delay_seconds: 1 }));
    await waitFor('the aborted start', () => manager.getState('p').exec === 'failed');
    expect(manager.getReport('p').history.at(-1)?.log.at(-1)?.[1]).toContain('no ports left');
    expect(stops[0]).toMatchObject({ reason: 'start-failed', comingBack: true, exit: null });
    expect(stops[0]?.error).toBeInstanceOf(HookAbortedError);
    expect(stops[0]?.error?.cause).toEqual(new Error('no ports left'));
    await waitFor('the retry', () => manager.getState('p').exec === 'running');
    expect(attempts).toBe(2);
  });

  it('aborts the signal of a start that a stop calls off, and spawns nothing', async () => {
    const { binary } = fakeFfmpeg(runForever);
    const rec = recorder();
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let aborted = false;
    const manager = await createManager({
      ffmpegBinary: binary,
      skipSkills: true,
      hooks: {
        onStart: async (start) => {
          entered();
          await new Promise((resolve) => start.signal.addEventListener('abort', resolve));
          aborted = start.signal.aborted;
        },
        onStop: rec.hooks.onStop,
      },
    });
    let starts = 0;
    manager.on('started', () => starts++);
    await manager.add(process());
    await inside;
    await manager.command('p', 'stop');
    expect(aborted).toBe(true);
    expect(rec.stopLines()).toEqual(['p:start-cancelled:false']);
    expect(manager.getState('p').exec).toBe('finished');
    expect(starts).toBe(0);
  });

  it('resolves inputs with undefined when FFmpeg never lists them', async () => {
    const { binary } = fakeFfmpeg('exit 1');
    let inputs: Promise<unknown> | undefined;
    const manager = await createManager({
      ffmpegBinary: binary,
      skipSkills: true,
      hooks: {
        onStart: (start) => {
          inputs = start.inputs;
        },
      },
    });
    await manager.add(process());
    await waitFor('the hook', () => inputs !== undefined);
    expect(await inputs).toBeUndefined();
  });
});

describe('StartContext.restart', () => {
  it('stops the run as coming back and starts the process again, once', async () => {
    const { binary } = fakeFfmpeg(runForever);
    const rec = recorder();
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true, hooks: rec.hooks });
    await manager.add(process({ reconnect: false }));
    await waitFor('running', () => manager.getState('p').exec === 'running');
    const first = rec.starts[0]!;

    expect(first.restart('the plan does not fit')).toBe(true);
    await waitFor('the second start', () => rec.starts.length === 2);
    await waitFor('running again', () => manager.getState('p').exec === 'running');
    expect(rec.stopLines()).toEqual(['p:hook-restart:true']);
    expect(
      manager
        .getReport('p')
        .history.at(-1)
        ?.log.map(([, line]) => line),
    ).toContain('restarting: the plan does not fit');
    // The first start is no longer the latest: asking through it does nothing.
    expect(first.restart('again')).toBe(false);
    expect(rec.starts).toHaveLength(2);
  });

  it('does nothing for a process that was stopped, and restarts one that exited', async () => {
    const { binary } = fakeFfmpeg('exit 1');
    const rec = recorder();
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true, hooks: rec.hooks });
    await manager.add(process({ reconnect: false }));
    await waitFor('the exit', () => rec.stops.length === 1);
    // An exited run (a map that failed after the banner) is what a plan check restarts.
    expect(rec.starts[0]!.restart('the input has no audio')).toBe(true);
    await waitFor('the second start', () => rec.starts.length === 2);
    await waitFor('its exit', () => rec.stops.length === 2);
    await manager.command('p', 'stop');
    expect(rec.starts[1]!.restart('too late')).toBe(false);
    expect(rec.starts).toHaveLength(2);
  });
});

describe('onStop says whether the process is coming back', () => {
  it('restart of a reconnect:false process is coming back; stop is not', async () => {
    const { binary } = fakeFfmpeg(runForever);
    const rec = recorder();
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true, hooks: rec.hooks });
    await manager.add(process({ reconnect: false }));
    await waitFor('running', () => manager.getState('p').exec === 'running');
    await manager.command('p', 'restart');
    expect(rec.stopLines()).toEqual(['p:restart:true']);
    expect(rec.starts).toHaveLength(2);
    await manager.command('p', 'reload');
    await manager.update('p', process({ reference: 'v2' }));
    expect(rec.stopLines()).toEqual(['p:restart:true', 'p:reload:true', 'p:update:true']);
    await manager.command('p', 'stop');
    expect(rec.stopLines().at(-1)).toBe('p:stop:false');
    expect(rec.stops.at(-1)?.exit).toMatchObject({ state: 'finished' });
    expect(rec.starts).toHaveLength(4);
  });

  it('a crash with reconnect is coming back, and a stop while it waits withdraws that', async () => {
    const { binary } = fakeFfmpeg('exit 3');
    const rec = recorder();
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true, hooks: rec.hooks });
    await manager.add(process({ reconnect: true, reconnect_delay_seconds: 60 }));
    await waitFor('the crash', () => rec.stops.length === 1);
    expect(rec.stops[0]).toMatchObject({
      reason: 'exit',
      comingBack: true,
      exit: { code: 3, state: 'failed' },
    });
    await manager.command('p', 'stop');
    expect(rec.stopLines()).toEqual(['p:exit:true', 'p:stop:false']);
    expect(rec.stops[1]?.exit).toBeNull();
  });

  it('a crash without reconnect is not coming back', async () => {
    const { binary } = fakeFfmpeg('exit 3');
    const rec = recorder();
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true, hooks: rec.hooks });
    await manager.add(process({ reconnect: false }));
    await waitFor('the crash', () => rec.stops.length === 1);
    expect(rec.stopLines()).toEqual(['p:exit:false']);
  });

  it('a rename is not coming back under the old id; the new id starts', async () => {
    const { binary } = fakeFfmpeg(runForever);
    const rec = recorder();
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true, hooks: rec.hooks });
    await manager.add(process());
    await waitFor('running', () => manager.getState('p').exec === 'running');
    await manager.update('p', process({ id: 'q' }));
    expect(rec.stopLines()).toEqual(['p:rename:false']);
    expect(rec.starts.map((start) => start.id)).toEqual(['p', 'q']);
    expect(manager.list()).toEqual(['q']);
  });

  it('remove and shutdown are not coming back, also while a reconnect was pending', async () => {
    const { binary } = fakeFfmpeg('exit 3');
    const rec = recorder();
    const manager = await createManager({ ffmpegBinary: binary, skipSkills: true, hooks: rec.hooks });
    await manager.add(process({ id: 'a', reconnect: true, reconnect_delay_seconds: 60 }));
    await manager.add(process({ id: 'b', reconnect: true, reconnect_delay_seconds: 60 }));
    await waitFor('two crashes', () => rec.stops.length === 2);
    await manager.remove('a');
    await manager.close();
    expect(rec.stopLines().sort()).toEqual(['a:exit:true', 'a:remove:false', 'b:close:false', 'b:exit:true']);
  });

  it('a start that cannot spawn is a start-failed stop with the spawn error', async () => {
    const rec = recorder();
    const manager = await createManager({
      ffmpegBinary: `${tempDir()}/missing-ffmpeg`,
      skipSkills: true,
      hooks: rec.hooks,
    });
    await manager.add(process({ reconnect: false }));
    await waitFor('the failed start', () => rec.stops.length === 1);
    expect(rec.stops[0]).toMatchObject({ reason: 'start-failed', comingBack: false, exit: null });
    expect(rec.stops[0]?.error).toBeInstanceOf(FFmpegSpawnError);
    expect(manager.getState('p').exec).toBe('failed');
  });
});
