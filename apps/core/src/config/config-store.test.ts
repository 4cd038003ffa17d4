import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigInvalidError, ConfigStore, redacted } from './config-store.js';
import { applyEnvOverrides, envName } from './env-overrides.js';

const dirs: string[] = [];
function tempFile(content?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'dragon-config-'));
  dirs.push(dir);
  const file = join(dir, 'config.json');
  if (content !== undefined)
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('environment overrides', () => {
  it('names variables CORE_ plus the upper-cased JSON path', () => {
    expect(envName('db.dir')).toBe('CORE_DB_DIR');
    expect(envName('webrtc.nat_1_to_1_ips')).toBe('CORE_WEBRTC_NAT_1_TO_1_IPS');
  });

  it('reads booleans, numbers, space-separated lists and JSON ice servers', () => {
    const { merged, overrides, errors } = applyEnvOverrides(
      {},
      {
        CORE_API_AUTH_ENABLE: 'true',
        CORE_WEBRTC_UDP_MUX_PORT: '8189',
        CORE_WEBRTC_NAT_1_TO_1_IPS: '203.0.113.5 198.51.100.7',
        CORE_WEBRTC_ICE_SERVERS: '[{"urls":"turn:turn.example.org","username":"u","credential":"c"}]',
      },
    );
    expect(errors).toEqual([]);
    expect(merged).toMatchObject({
      api: { auth: { enable: true } },
      webrtc: {
        udp_mux_port: 8189,
        nat_1_to_1_ips: ['203.0.113.5', '198.51.100.7'],
        ice_servers: [{ urls: 'turn:turn.example.org', username: 'u', credential: 'c' }],
      },
    });
    expect(overrides.sort()).toEqual(
      ['api.auth.enable', 'webrtc.ice_servers', 'webrtc.nat_1_to_1_ips', 'webrtc.udp_mux_port'].sort(),
    );
  });

  it('reports a value that is not of the field type', () => {
    const { errors } = applyEnvOverrides(
      {},
      { CORE_WEBRTC_ENABLE: 'maybe', CORE_WEBRTC_MAX_VIEWERS: 'lots' },
    );
    expect(errors).toEqual([
      'CORE_WEBRTC_ENABLE: expected true or false',
      'CORE_WEBRTC_MAX_VIEWERS: expected a number',
    ]);
  });
});

describe('ConfigStore', () => {
  it('uses defaults without a file, with WebRTC on', () => {
    const store = new ConfigStore(tempFile(), {});
    expect(store.config.address).toBe(':8080');
    expect(store.config.db.dir).toBe('./data');
    expect(store.config.webrtc.enable).toBe(true);
  });

  it('lets the environment win over the file and lists what it overrode', () => {
    const store = new ConfigStore(tempFile({ address: ':9000', db: { dir: '/srv' } }), {
      CORE_ADDRESS: ':7000',
    });
    expect(store.config.address).toBe(':7000');
    expect(store.config.db.dir).toBe('/srv');
    expect(store.view().overrides).toEqual(['address']);
  });

  it('refuses to boot with readable messages for an invalid file or variable', () => {
    const file = tempFile({ address: 'nonsense', webrtc: { max_viewers: -1 } });
    const error = (() => {
      try {
        new ConfigStore(file, { CORE_WEBRTC_ENABLE: 'maybe' });
      } catch (caught) {
        return caught as ConfigInvalidError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigInvalidError);
    expect(error?.details).toEqual([
      'CORE_WEBRTC_ENABLE: expected true or false',
      'address: must be host:port or :port',
      expect.stringMatching(/^webrtc.max_viewers: /),
    ]);
  });

  it('refuses a file that is not JSON', () => {
    expect(() => new ConfigStore(tempFile('{ not json'), {})).toThrow(ConfigInvalidError);
  });

  it('never shows secrets, and keeps them when a redacted config is saved back', () => {
    const file = tempFile({
      api: { auth: { enable: true, username: 'admin', password: 's3cret' } },
      webrtc: { token: 'viewer' },
    });
    const store = new ConfigStore(file, {});
    const view = store.view();
    expect(JSON.stringify(view)).not.toContain('s3cret');
    expect(view.config.api.auth.password).toBe(redacted);
    expect(view.config.webrtc.token).toBe(redacted);

    store.save({ ...view.config, address: ':9090' });
    const saved = JSON.parse(readFileSync(file, 'utf8'));
    expect(saved.api.auth.password).toBe('s3cret');
    expect(saved.webrtc.token).toBe('viewer');
    expect(saved.address).toBe(':9090');
    expect(store.config.address).toBe(':8080');
    expect(store.reload().address).toBe(':9090');
  });

  it('rejects an invalid config on save and leaves the file as it was', () => {
    const file = tempFile({ address: ':9000' });
    const store = new ConfigStore(file, {});
    expect(() => store.save({ address: 12 })).toThrow(ConfigInvalidError);
    expect(() => store.save([1, 2])).toThrow(ConfigInvalidError);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ address: ':9000' });
  });
});
