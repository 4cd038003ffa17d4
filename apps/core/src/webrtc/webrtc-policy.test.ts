import { describe, expect, it } from 'vitest';
import { configSchema } from '../config/config-schema.js';
import { WebRtcPolicy } from './webrtc-policy.js';

const defaults = configSchema.parse({}).webrtc.auto_enable;
const ingest = 'restreamer-ui:ingest:7d1f3c2a-0b4e-4d6f-9a1b-2c3d4e5f6a7b';
const idle = () => ({ cores: 8, load: 0 });

describe('which processes send WebRTC', () => {
  it("covers the Restreamer UI's channel ingests by default, not their snapshot and probe processes", () => {
    const policy = new WebRtcPolicy(defaults, idle);

    expect(policy.of(ingest, { reference: '7d1f' })).toMatchObject({
      origin: 'auto',
      config: { enabled: true },
    });
    expect(policy.of(`${ingest}_snapshot`, { reference: '7d1f' })).toBeUndefined();
    expect(policy.of(`${ingest}_probe`, { reference: '7d1f' })).toBeUndefined();
    expect(policy.of('cam', { reference: '' })).toBeUndefined();
  });

  it("follows a process's own block, an explicit enabled: false included", () => {
    const policy = new WebRtcPolicy(defaults, idle);
    const off = { enabled: false } as never;
    const on = { enabled: true, token: 't' } as never;

    expect(policy.of(ingest, { reference: '', webrtc: off })).toBeUndefined();
    expect(policy.of('cam', { reference: '', webrtc: on })).toEqual({ origin: 'config', config: on });
  });

  it('covers processes by reference glob too', () => {
    const policy = new WebRtcPolicy({ ...defaults, processes: [], references: ['door-*'] }, idle);

    expect(policy.of('a', { reference: 'door-1' })?.origin).toBe('auto');
    expect(policy.of('b', { reference: 'garden' })).toBeUndefined();
    expect(policy.of('c', { reference: '' })).toBeUndefined();
  });
});

describe('the CPU an auto-enabled start may take', () => {
  it('is what transcode_cores leaves after the other processes, and says so', () => {
    const policy = new WebRtcPolicy({ ...defaults, transcode_cores: 1.5 }, idle);

    expect(policy.budget(0.6)).toEqual({
      cores: 0.9,
      why: 'webrtc.auto_enable.transcode_cores is 1.5, 0.6 taken by other processes',
    });
    expect(policy.budget(2).cores).toBe(0);
  });

  it('is no more than the machine has idle', () => {
    const policy = new WebRtcPolicy({ ...defaults, transcode_cores: 4 }, () => ({ cores: 2, load: 1.75 }));

    expect(policy.budget(0)).toEqual({
      cores: 0.25,
      why: 'the machine has about 0.25 of 2 cores idle (load 1.75)',
    });
  });
});
