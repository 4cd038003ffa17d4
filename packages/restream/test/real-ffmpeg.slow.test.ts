import { afterEach, describe, expect, it } from 'vitest';
import type { StreamFacts } from '../src/index.js';
import { cleanup, createManager, nullProcess, tempDir, waitFor } from './helpers.js';

afterEach(cleanup);

describe('ProcessManager with real FFmpeg', () => {
  it('runs a test pattern with moving progress, then stops it as finished', async () => {
    const manager = await createManager();
    await manager.add({ id: 'pattern', ...nullProcess, autostart: true });
    const first = await waitFor('progress', () => {
      const state = manager.getState('pattern');
      return state.exec === 'running' && state.progress.frame > 0 ? state.progress.frame : undefined;
    });
    await waitFor('the frame counter to move', () => manager.getState('pattern').progress.frame > first + 10);
    const state = manager.getState('pattern');
    expect(state.order).toBe('start');
    expect(state.progress.fps).toBeGreaterThan(0);
    expect(state.progress.inputs[0]).toMatchObject({ id: 'in', type: 'video', width: 160, height: 120 });
    expect(state.command).toEqual(expect.arrayContaining(['-i', 'testsrc2=size=160x120:rate=25']));
    await waitFor('a memory sample', () => manager.getState('pattern').memory_bytes > 0);

    await manager.command('pattern', 'stop');
    expect(manager.getState('pattern')).toMatchObject({ order: 'stop', exec: 'finished' });
    const report = manager.getReport('pattern');
    expect(report.prelude.some((line) => line.startsWith('Input #0'))).toBe(true);
  });

  it('restarts a running process on update, keeping its order, metadata and history', async () => {
    const manager = await createManager();
    await manager.add({ id: 'live', ...nullProcess, autostart: true });
    await manager.setMetadata('live', 'ui', { tab: 2 });
    await waitFor('progress', () => manager.getState('live').progress.frame > 0);
    await manager.update('live', { ...nullProcess, id: 'live', reference: 'v2' });
    await waitFor(
      'running again',
      () => manager.getState('live').exec === 'running' && manager.getState('live').progress.frame > 0,
    );
    expect(manager.getConfig('live').reference).toBe('v2');
    expect(manager.getState('live').order).toBe('start');
    expect(manager.getMetadata('live', 'ui')).toEqual({ tab: 2 });
    expect(manager.getReport('live').history).toHaveLength(1);
  });

  it('restores processes and orders in a new manager and starts those ordered to run', async () => {
    const dataDir = tempDir();
    const first = await createManager({ dataDir });
    await first.add({ id: 'on', ...nullProcess, autostart: true });
    await first.add({ id: 'off', ...nullProcess, autostart: false });
    await first.setGlobalMetadata('site', 'home');
    await first.close();

    const second = await createManager({ dataDir });
    expect(second.list()).toEqual(['off', 'on']);
    expect(second.getGlobalMetadata('site')).toBe('home');
    await waitFor('on running', () => second.getState('on').exec === 'running');
    expect(second.getState('off')).toMatchObject({ order: 'stop', exec: 'finished' });
  });

  it("tells each start the input streams once FFmpeg's banner has listed them", async () => {
    const starts: Promise<StreamFacts[] | undefined>[] = [];
    const manager = await createManager({ hooks: { onStart: (start) => void starts.push(start.inputs) } });
    await manager.add({ id: 'facts', ...nullProcess, autostart: true });
    await waitFor('the first start', () => starts[0]);
    expect(await starts[0]).toEqual([
      expect.objectContaining({ type: 'video', codec: 'rawvideo', width: 160, height: 120 }),
    ]);
    await manager.command('facts', 'restart');
    expect(starts).toHaveLength(2);
    expect(await starts[1]).toEqual([expect.objectContaining({ width: 160, height: 120 })]);
  });

  it("tells each start how fast its FFmpeg runs, from FFmpeg's progress, while it runs", async () => {
    const starts: { speed(): number | undefined }[] = [];
    const manager = await createManager({ hooks: { onStart: (start) => void starts.push(start) } });
    await manager.add({ id: 'pace', ...nullProcess, autostart: true });
    const start = await waitFor('the start', () => starts[0]);
    expect(start.speed()).toBeUndefined();

    // Two seconds of reports: FFmpeg writes one a second (`-stats_period 1`).
    const speed = await waitFor('a speed', () => start.speed());
    expect(speed).toBeGreaterThan(0);
    await manager.command('pace', 'stop');
    expect(start.speed()).toBeUndefined();
  });

  it('probes the inputs of a process', async () => {
    const manager = await createManager();
    await manager.add({ id: 'probe', ...nullProcess, autostart: false });
    const probe = await manager.probe('probe');
    expect(probe.streams).toEqual([
      expect.objectContaining({ type: 'video', codec: 'rawvideo', width: 160, height: 120 }),
    ]);
    expect(probe.log.length).toBeGreaterThan(0);
  });

  it('reports FFmpeg skills', async () => {
    const manager = await createManager();
    const skills = manager.skills() as { ffmpeg: { version: string }; codecs: { video: { id: string }[] } };
    expect(skills.ffmpeg.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(skills.codecs.video.map((codec) => codec.id)).toContain('h264');
  });
});
