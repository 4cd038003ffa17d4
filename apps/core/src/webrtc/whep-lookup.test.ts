import { describe, expect, it } from 'vitest';
import { configSchema } from '../config/config-schema.js';
import { ownWebRtc, WebRtcPolicy } from './webrtc-policy.js';
import { createWhepLookup, type WhepLookupOptions } from './whep-lookup.js';

type Config = { reconnect: boolean; reference?: string; webrtc?: { enabled: boolean; token?: string } };

function fakeManager(configs: Record<string, Config>, exec = 'running' as const) {
  let configReads = 0;
  const manager = {
    has: (id: string) => id in configs,
    list: () => Object.keys(configs),
    getConfig: (id: string) => {
      configReads++;
      return structuredClone(configs[id]!);
    },
    getState: () => ({ order: 'start', exec }),
  } as unknown as WhepLookupOptions['manager'];
  return { manager, reads: () => configReads };
}

describe('createWhepLookup', () => {
  it('answers undefined for unknown processes and for those without WebRTC', () => {
    const { manager } = fakeManager({ plain: { reconnect: true, webrtc: { enabled: false } } });
    const { lookup } = createWhepLookup({
      manager,
      webrtcOf: ownWebRtc,
      source: () => undefined,
      maxViewersPerProcess: 0,
    });

    expect(lookup('nope')).toBeUndefined();
    expect(lookup('plain')).toBeUndefined();
  });

  it('answers for a process without a webrtc block that webrtc.auto_enable covers, not for an explicit opt-out', () => {
    const policy = new WebRtcPolicy({
      ...configSchema.parse({}).webrtc,
      auto_enable: { processes: ['ui:*'], references: [], transcode_cores: 1 },
    });
    const { manager } = fakeManager({
      'ui:cam': { reconnect: true, reference: '' },
      'ui:off': { reconnect: true, reference: '', webrtc: { enabled: false } },
      other: { reconnect: true, reference: '' },
    });
    const { lookup } = createWhepLookup({
      manager,
      webrtcOf: (id, config) => policy.of(id, config),
      source: () => undefined,
      maxViewersPerProcess: 0,
    });

    expect(lookup('ui:cam')).toEqual({ state: 'running' });
    expect(lookup('ui:off')).toBeUndefined();
    expect(lookup('other')).toBeUndefined();
  });

  it('tells state, source, token and the per-process limit', () => {
    const { manager } = fakeManager({ cam: { reconnect: true, webrtc: { enabled: true, token: 't' } } });
    const source = { hasMedia: true } as never;
    const { lookup } = createWhepLookup({
      manager,
      webrtcOf: ownWebRtc,
      source: () => source,
      maxViewersPerProcess: 3,
    });

    expect(lookup('cam')).toEqual({ state: 'running', source, token: 't', maxViewers: 3 });
  });

  it('conceals process ids while some process has a viewer token, rescanning at most once a second', () => {
    const configs: Record<string, Config> = { cam: { reconnect: true, webrtc: { enabled: true } } };
    const { manager, reads } = fakeManager(configs);
    const { concealProcessIds } = createWhepLookup({
      manager,
      webrtcOf: ownWebRtc,
      source: () => undefined,
      maxViewersPerProcess: 0,
    });

    expect(concealProcessIds()).toBe(false);
    configs.cam!.webrtc!.token = 'secret';
    const before = reads();
    expect(concealProcessIds()).toBe(false);
    expect(reads()).toBe(before);
  });
});
