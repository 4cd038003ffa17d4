import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../config/config-schema.js';
import { effectiveCores, WebRtcPolicy } from './webrtc-policy.js';

const server = configSchema.parse({}).webrtc;
const defaults = server.auto_enable;
const withAuto = (autoEnable: Partial<typeof defaults>) => ({
  ...server,
  auto_enable: { ...defaults, ...autoEnable },
});
const ingest = 'restreamer-ui:ingest:7d1f3c2a-0b4e-4d6f-9a1b-2c3d4e5f6a7b';
const idle = () => ({ cores: 8, load: 0 });

describe('which processes send WebRTC', () => {
  it("covers the Restreamer UI's channel ingests by default, not their snapshot and probe processes", () => {
    const policy = new WebRtcPolicy(server, idle);

    expect(policy.of(ingest, { reference: '7d1f' })).toMatchObject({
      origin: 'auto',
      config: { enabled: true },
    });
    expect(policy.of(`${ingest}_snapshot`, { reference: '7d1f' })).toBeUndefined();
    expect(policy.of(`${ingest}_probe`, { reference: '7d1f' })).toBeUndefined();
    expect(policy.of('cam', { reference: '' })).toBeUndefined();
  });

  it("follows a process's own block, an explicit enabled: false included", () => {
    const policy = new WebRtcPolicy(server, idle);
    const off = { enabled: false } as never;
    const on = { enabled: true, token: 't' } as never;

    expect(policy.of(ingest, { reference: '', webrtc: off })).toBeUndefined();
    expect(policy.of('cam', { reference: '', webrtc: on })).toEqual({
      origin: 'config',
      config: { ...(on as object), renditions: 'off', vp8: 'on-demand' },
    });
  });

  it('covers processes by reference glob too', () => {
    const policy = new WebRtcPolicy(withAuto({ processes: [], references: ['door-*'] }), idle);

    expect(policy.of('a', { reference: 'door-1' })?.origin).toBe('auto');
    expect(policy.of('b', { reference: 'garden' })).toBeUndefined();
    expect(policy.of('c', { reference: '' })).toBeUndefined();
  });
});

describe('the CPU an auto-enabled start may take', () => {
  it('is what transcode_cores leaves after the other processes, and says so', () => {
    const policy = new WebRtcPolicy(withAuto({ transcode_cores: 1.5 }), idle);

    expect(policy.budget(0.6)).toEqual({
      cores: 0.9,
      why: 'webrtc.auto_enable.transcode_cores is 1.5, 0.6 taken by other processes',
    });
    expect(policy.budget(2).cores).toBe(0);
  });

  it('is no more than the machine has idle', () => {
    const policy = new WebRtcPolicy(withAuto({ transcode_cores: 4 }), () => ({ cores: 2, load: 1.75 }));

    expect(policy.budget(0)).toEqual({
      cores: 0.25,
      why: 'the machine has about 0.25 of 2 cores idle (load 1.75)',
    });
  });
});

describe('renditions and VP8', () => {
  it("take the server's defaults where the process's block does not say, its own where it does", () => {
    const policy = new WebRtcPolicy({ ...server, renditions: 'auto', vp8: 'off' }, idle);
    const plain = { enabled: true } as never;
    const own = { enabled: true, renditions: [{ height: 360, bitrate_kbit: 400 }], vp8: 'always' } as never;

    expect(policy.of('cam', { reference: '', webrtc: plain })?.config).toMatchObject({
      renditions: 'auto',
      vp8: 'off',
    });
    expect(policy.of('cam', { reference: '', webrtc: own })?.config).toMatchObject({
      renditions: [{ height: 360, bitrate_kbit: 400 }],
      vp8: 'always',
    });
    expect(policy.of(ingest, { reference: '' })?.config).toMatchObject({ renditions: 'auto', vp8: 'off' });
  });

  it("may take their share of the cores less the other processes' renditions, whatever the load", () => {
    const policy = new WebRtcPolicy({ ...server, renditions_cpu_budget: 0.5 }, () => ({ cores: 2, load: 9 }));

    expect(policy.renditionBudget(0.39, 1)).toEqual({
      cores: 0.61,
      why: 'webrtc.renditions_cpu_budget is 0.5 of 2 cores, 0.39 taken by the renditions of 1 other process',
    });
    expect(policy.renditionBudget(1.2, 3).cores).toBe(0);
  });
});

describe('the cores of the machine', () => {
  it('are capped by a cgroup CPU quota (docker --cpus), and not without one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dragon-cpu-max-'));
    try {
      writeFileSync(join(dir, 'quota'), '50000 100000\n');
      writeFileSync(join(dir, 'none'), 'max 100000\n');
      expect(effectiveCores(join(dir, 'quota'))).toBe(0.5);
      expect(effectiveCores(join(dir, 'none'))).toBe(availableParallelism());
      expect(effectiveCores(join(dir, 'missing'))).toBe(availableParallelism());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
