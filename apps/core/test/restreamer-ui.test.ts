import { afterEach, describe, expect, it } from 'vitest';
import { type InProcessCore, startInProcessCore } from './in-process-core.js';
import { RestreamerUi } from './restreamer-ui.js';

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
    const ui = new RestreamerUi(server.request);
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
    const ui = new RestreamerUi(server.request);
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
    const ui = new RestreamerUi(server.request);
    expect(await ui.validate()).toBe(true);
    expect(ui.requiresLogin).toBe(false);
    expect(ui.compatible()).toBe(true);
  });

  it("shows the errors of a rejected config under the UI's field names", async () => {
    server = await startInProcessCore();
    const ui = new RestreamerUi(server.request);
    const answer = await ui.saveConfig({ rtmp: { enable_tls: true }, srt: { address: 'nowhere' } });
    expect(answer.status).toBe(409);
    expect(Object.keys(answer.value).sort()).toEqual(['rtmp.enable', 'rtmp.enable_tls', 'srt.address']);
    for (const messages of Object.values(answer.value)) expect(messages).toEqual([expect.any(String)]);
  });
});
