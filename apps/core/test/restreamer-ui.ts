import { decode } from 'hono/jwt';
import satisfies from 'semver/functions/satisfies.js';

/** The Core versions the Restreamer UI (v1.14, `src/version.js`) works with. */
const uiWantsCore = '^16.11.0';

/**
 * The Restreamer UI's connect logic (`src/utils/restreamer.js`, v1.14): `About()` refuses any `app`
 * but datarhei's; an `id` without a token means no login is needed; after a login the `id` must be
 * there; `Compatibility()` needs the version within its range; the access token's `exi` claim times
 * the refresh; `_initConfig()` reads these config fields without checking they exist.
 */
export class RestreamerUi {
  token = '';
  refreshToken = '';
  requiresLogin = true;
  connected = false;
  refreshInSeconds = 0;
  about: { app?: string; id: string; version: { number: string } } | null = null;

  constructor(private readonly request: (path: string, init?: RequestInit) => Promise<Response>) {}

  async #call(method: string, path: string, body?: unknown, token = this.token) {
    const response = await this.request(`/api${path}`, {
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
