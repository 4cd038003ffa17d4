import { decode } from 'hono/jwt';
import satisfies from 'semver/functions/satisfies.js';
import { afterEach, describe, expect, it } from 'vitest';
import { type InProcessCore, startInProcessCore } from './in-process-core.js';

/** The Core versions the Restreamer UI (v1.14, `src/version.js`) works with. */
const uiWantsCore = '^16.11.0';

/**
 * The Restreamer UI's connect logic (`src/utils/restreamer.js`, v1.14): `About()` refuses any `app`
 * but datarhei's; an `id` without a token means no login is needed; after a login the `id` must be
 * there; `Compatibility()` needs the version within its range; the access token's `exi` claim times
 * the refresh; `_initConfig()` reads these config fields without checking they exist.
 */
class RestreamerUi {
  token = '';
  refreshToken = '';
  requiresLogin = true;
  connected = false;
  refreshInSeconds = 0;
  about: { app?: string; id: string; version: { number: string } } | null = null;

  constructor(private readonly server: InProcessCore) {}

  async #call(method: string, path: string, body?: unknown, token = this.token) {
    const response = await this.server.request(`/api${path}`, {
      method,
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      ok: response.ok,
      status: response.status,
      value: (await response.json()) as Record<string, unknown>,
    };
  }

  async aboutCheck() {
    const { ok, value } = await this.#call('GET', '');
    if (!ok || typeof value !== 'object') return null;
    // _initAbout(): defaults, then what the server sent.
    const about = { id: '', ...value } as NonNullable<typeof this.about>;
    about.version = { ...{ number: '' }, ...(value.version as object) } as { number: string };
    return about.app === 'datarhei-core' ? about : null;
  }

  async validate(): Promise<boolean> {
    const about = await this.aboutCheck();
    if (about === null) return false;
    this.requiresLogin = about.id.length === 0;
    this.about = about;
    return true;
  }

  async login(username: string, password: string): Promise<boolean> {
    const { ok, value } = await this.#call('POST', '/login', { username, password });
    if (!ok) return false;
    this.#setAccessToken(value.access_token as string);
    this.refreshToken = value.refresh_token as string;
    const about = await this.aboutCheck();
    if (about === null || about.id.length === 0) return false;
    this.about = about;
    this.connected = true;
    return true;
  }

  async refresh(): Promise<boolean> {
    const { ok, value } = await this.#call('GET', '/login/refresh', undefined, this.refreshToken);
    if (ok) this.#setAccessToken(value.access_token as string);
    return ok;
  }

  #setAccessToken(token: string) {
    const { exi } = decode(token).payload as { exi: number };
    this.refreshInSeconds = exi > 60 ? exi - 60 : exi;
    this.token = token;
  }

  compatible(): boolean {
    return this.about !== null && satisfies(this.about.version.number, uiWantsCore);
  }

  async initConfig() {
    const { ok, value } = await this.#call('GET', '/v3/config');
    if (!ok) return null;
    // biome-ignore lint/suspicious/noExplicitAny: the UI dereferences the JSON untyped, which is what is tested
    const config = value.config as Record<string, Record<string, any>>;
    return {
      hostNames: config.host!.name.length,
      tls: config.tls!.enable,
      address: config.address,
      rtmp: [
        config.rtmp!.enable,
        config.rtmp!.enable_tls,
        config.rtmp!.token,
        config.rtmp!.app,
        config.rtmp!.address,
      ],
      srt: [config.srt!.enable, config.srt!.passphrase, config.srt!.token, config.srt!.address],
      memfs: [
        config.storage!.memory.auth.enable,
        config.storage!.memory.auth.username,
        config.storage!.memory.auth.password,
      ],
      apiAuth: [config.api!.auth.enable, config.api!.auth.username],
      overrides: value.overrides as string[],
    };
  }

  saveConfig(config: unknown) {
    return this.#call('PUT', '/v3/config', config);
  }
}

let server: InProcessCore | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('the Restreamer UI connecting', () => {
  it('asks for a login when auth is on, then connects, is compatible, refreshes and reads the config', async () => {
    server = await startInProcessCore({
      CORE_API_AUTH_ENABLE: 'true',
      CORE_API_AUTH_USERNAME: 'admin',
      CORE_API_AUTH_PASSWORD: 'ui-password',
    });
    const ui = new RestreamerUi(server);
    expect(await ui.validate()).toBe(true);
    expect(ui.requiresLogin).toBe(true);
    expect(await ui.login('admin', 'ui-password')).toBe(true);
    expect(ui.connected).toBe(true);
    expect(ui.compatible()).toBe(true);
    expect(ui.about!.id).toBe(server.configStore.config.id);
    expect(ui.refreshInSeconds).toBe(540);
    expect(await ui.refresh()).toBe(true);

    const config = await ui.initConfig();
    expect(config).not.toBeNull();
    // The UI builds HLS URLs with the memfs credentials it reads here.
    expect(config!.memfs).toEqual([true, 'admin', server.configStore.config.storage.memory.auth.password]);
  });

  it('saves a partial config without losing auth, and the whole shown config without losing secrets', async () => {
    server = await startInProcessCore();
    const ui = new RestreamerUi(server);
    await ui.validate();
    const enable = await ui.saveConfig({
      api: { auth: { enable: true, username: 'admin', password: 'chosen-pw' } },
    });
    expect(enable.value).toBe('OK');
    expect((await ui.saveConfig({ log: { level: 'debug' } })).value).toBe('OK');
    const { value } = await server.request('/api/v3/config').then(async (response) => ({
      value: (await response.json()) as { config: { api: { auth: object } } },
    }));
    expect(value.config.api.auth).toMatchObject({ enable: true, username: 'admin', password: '********' });
    expect((await ui.saveConfig(value.config)).value).toBe('OK');
    expect(server.configStore.active.api.auth).toMatchObject({
      enable: true,
      username: 'admin',
      password: 'chosen-pw',
    });
    expect(server.configStore.active.log.level).toBe('debug');
  });

  it('needs no login when auth is off', async () => {
    server = await startInProcessCore();
    const ui = new RestreamerUi(server);
    expect(await ui.validate()).toBe(true);
    expect(ui.requiresLogin).toBe(false);
    expect(ui.compatible()).toBe(true);
  });

  it("shows the errors of a rejected config under the UI's field names", async () => {
    server = await startInProcessCore();
    const ui = new RestreamerUi(server);
    const answer = await ui.saveConfig({ rtmp: { enable_tls: true }, srt: { address: 'nowhere' } });
    expect(answer.status).toBe(409);
    expect(Object.keys(answer.value).sort()).toEqual(['rtmp.enable', 'rtmp.enable_tls', 'srt.address']);
    for (const messages of Object.values(answer.value)) expect(messages).toEqual([expect.any(String)]);
  });
});
