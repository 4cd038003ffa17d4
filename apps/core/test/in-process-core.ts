import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ConfigStore } from '../src/config/config-store.js';
import { type Core, type CoreOptions, createCore } from '../src/core.js';

export interface InProcessCore {
  core: Core;
  configStore: ConfigStore;
  /** The db dir; the disk filesystem is its `disk` subfolder. */
  dataDir: string;
  /** `app.request` on `http://localhost`. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** How often `GET /api/v3/config/reload` asked for a reload. */
  reloads(): number;
  close(): Promise<void>;
}

/**
 * A core answering in-process (no listener) with its own directories; `env` adds `CORE_*` variables,
 * `options` the core options a test needs (e.g. `httpAddress` when the test serves it itself, a
 * `logger` to read what it logs; silent otherwise).
 */
export async function startInProcessCore(
  env: Record<string, string> = {},
  options: Pick<CoreOptions, 'httpAddress'> & { logger?: CoreOptions['logger'] } = {},
): Promise<InProcessCore> {
  const dataDir = mkdtempSync(join(tmpdir(), 'dragon-core-'));
  const configStore = new ConfigStore(join(dataDir, 'config.json'), {
    PATH: process.env.PATH,
    CORE_DB_DIR: dataDir,
    CORE_STORAGE_DISK_DIR: join(dataDir, 'disk'),
    CORE_WEBRTC_INTERFACES: '127.0.0.1',
    ...env,
  });
  let reloads = 0;
  const core = await createCore({
    ...options,
    configStore,
    logger: options.logger ?? pino({ level: 'silent' }),
    requestReload: () => {
      reloads++;
    },
  });
  return {
    core,
    configStore,
    dataDir,
    request: (path, init) => Promise.resolve(core.app.request(`http://localhost${path}`, init)),
    reloads: () => reloads,
    close: async () => {
      await core.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
