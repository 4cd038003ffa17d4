import { describe, expect, it } from 'vitest';
import { configSchema } from './config-schema.js';
import { applyEnvOverrides, envName } from './env-overrides.js';

describe('environment overrides', () => {
  it('names variables CORE_ plus the upper-cased JSON path', () => {
    expect(envName('db.dir')).toBe('CORE_DB_DIR');
    expect(envName('webrtc.nat_1_to_1_ips')).toBe('CORE_WEBRTC_NAT_1_TO_1_IPS');
  });

  it('reads booleans, numbers, lists and JSON', () => {
    const { merged, overrides, errors } = applyEnvOverrides(
      {},
      {
        CORE_API_AUTH_ENABLE: 'true',
        CORE_WEBRTC_UDP_MUX_PORT: '8189',
        CORE_WEBRTC_NAT_1_TO_1_IPS: '203.0.113.5 198.51.100.7',
        CORE_SESSIONS_IP_IGNORELIST: '127.0.0.1/32,10.0.0.0/8',
        CORE_FFMPEG_ACCESS_INPUT_ALLOW: '^rtmp://.{1,3} ^srt://',
        CORE_WEBRTC_ICE_SERVERS: '[{"urls":"turn:turn.example.org","username":"u","credential":"c"}]',
        CORE_ROUTER_ROUTES: '{"/foo":"/bar"}',
      },
    );
    expect(errors).toEqual([]);
    expect(merged).toMatchObject({
      api: { auth: { enable: true } },
      sessions: { ip_ignorelist: ['127.0.0.1/32', '10.0.0.0/8'] },
      ffmpeg: { access: { input: { allow: ['^rtmp://.{1,3}', '^srt://'] } } },
      router: { routes: { '/foo': '/bar' } },
      webrtc: {
        udp_mux_port: 8189,
        nat_1_to_1_ips: ['203.0.113.5', '198.51.100.7'],
        ice_servers: [{ urls: 'turn:turn.example.org', username: 'u', credential: 'c' }],
      },
    });
    expect(overrides).toHaveLength(7);
  });

  it("takes datarhei's own variable names where they are not CORE_ plus the path", () => {
    const { merged, overrides } = applyEnvOverrides(
      {},
      { CORE_FFMPEG_MAXPROCESSES: '4', CORE_METRICS_RANGE_SECONDS: '600', RS_PASSWORD: 'legacy' },
    );
    expect(merged).toMatchObject({
      ffmpeg: { max_processes: 4 },
      metrics: { range_sec: 600 },
      api: { auth: { password: 'legacy' } },
    });
    expect(overrides.sort()).toEqual(['api.auth.password', 'ffmpeg.max_processes', 'metrics.range_sec']);
  });

  it('turns cluster mode on when CORE_CLUSTER_REDIS_URL is set, unless CORE_CLUSTER_ENABLE says otherwise', () => {
    const on = applyEnvOverrides({}, { CORE_CLUSTER_REDIS_URL: 'redis://10.0.0.9:6379' });
    expect(on.merged).toMatchObject({ cluster: { enable: true, redis_url: 'redis://10.0.0.9:6379' } });
    expect(on.overrides.sort()).toEqual(['cluster.enable', 'cluster.redis_url']);
    const off = applyEnvOverrides(
      {},
      { CORE_CLUSTER_REDIS_URL: 'redis://10.0.0.9:6379', CORE_CLUSTER_ENABLE: 'false' },
    );
    expect(off.merged).toMatchObject({ cluster: { enable: false } });
    expect(applyEnvOverrides({}, { CORE_CLUSTER_REDIS_URL: '' }).merged).toEqual({
      cluster: { redis_url: '' },
    });
  });

  it('sets webrtc.auto_enable from CORE_WEBRTC_AUTO_ENABLE_* (globs as a list, an empty value for none)', () => {
    const { merged } = applyEnvOverrides(
      {},
      {
        CORE_WEBRTC_AUTO_ENABLE_PROCESSES: 'restreamer-ui:ingest:* cam-*',
        CORE_WEBRTC_AUTO_ENABLE_REFERENCES: '',
        CORE_WEBRTC_AUTO_ENABLE_TRANSCODE_CORES: '0',
      },
    );
    expect(merged).toEqual({
      webrtc: {
        auto_enable: { processes: ['restreamer-ui:ingest:*', 'cam-*'], references: [], transcode_cores: 0 },
      },
    });
  });

  it('sets the renditions and VP8 defaults from CORE_WEBRTC_RENDITIONS, _RENDITIONS_CPU_BUDGET and _VP8', () => {
    const { merged, errors } = applyEnvOverrides(
      {},
      {
        CORE_WEBRTC_RENDITIONS: 'auto',
        CORE_WEBRTC_RENDITIONS_CPU_BUDGET: '0.25',
        CORE_WEBRTC_VP8: 'always',
      },
    );
    expect(errors).toEqual([]);
    expect(configSchema.parse(merged).webrtc).toMatchObject({
      renditions: 'auto',
      renditions_cpu_budget: 0.25,
      vp8: 'always',
    });
    // Off, half the cores, VP8 on demand unless set.
    expect(configSchema.parse({}).webrtc).toMatchObject({
      renditions: 'off',
      renditions_cpu_budget: 0.5,
      vp8: 'on-demand',
    });
    expect(configSchema.safeParse({ webrtc: { renditions: 'on' } }).success).toBe(false);
    expect(configSchema.safeParse({ webrtc: { renditions_cpu_budget: 2 } }).success).toBe(false);
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
