import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type ServerType, serve } from '@hono/node-server';
import { pino } from 'pino';
import { ConfigInvalidError, ConfigStore } from './config/config-store.js';
import { type Core, createCore } from './core.js';
import { ensureDemoProcess } from './demo.js';
import { continueOnRead } from './fs/expect-continue.js';
import { LogRing } from './ops/log-ring.js';

const { values: args } = parseArgs({
  options: { config: { type: 'string' }, demo: { type: 'boolean', default: false } },
});

function fail(message: string, details: string[] = []): never {
  process.stderr.write(`dragon-core: ${message}\n${details.map((line) => `  - ${line}\n`).join('')}`);
  process.exit(1);
}

function listenTarget(address: string): { hostname?: string; port: number } {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
  return { ...(host ? { hostname: host } : {}), port: Number(address.slice(separator + 1)) };
}

const configFile =
  args.config ?? process.env.CORE_CONFIGFILE ?? join(process.env.CORE_DB_DIR ?? './data', 'config.json');
let configStore: ConfigStore;
try {
  configStore = new ConfigStore(configFile);
} catch (error) {
  if (error instanceof ConfigInvalidError) fail('the configuration is invalid:', error.details);
  throw error;
}

const logRing = new LogRing();
const logger = pino(
  { level: configStore.config.log.level, base: { app: 'dragon-core' } },
  logRing.destination(process.stdout),
);
let core: Core;
let server: ServerType | undefined;
let listeningOn = '';
/** `host:port` as bound, so `{memfs}` URLs carry the real port even when `address` asked for 0. */
let boundAddress = '';

async function startCore(): Promise<Core> {
  try {
    return await createCore({
      configStore,
      logger,
      logRing,
      httpAddress: () => boundAddress || configStore.config.address,
      requestReload: () => void reload(),
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === 'FFMPEG_UNAVAILABLE' || code === 'STORE_CORRUPT') fail((error as Error).message);
    throw error;
  }
}

function listen(address: string): Promise<void> {
  listeningOn = address;
  return new Promise((resolve, reject) => {
    const target = listenTarget(address);
    server = serve(
      { fetch: (request, env) => core.app.fetch(request, env), ...target },
      (info: AddressInfo) => {
        boundAddress = `${target.hostname ?? ''}:${info.port}`;
        logger.info({ address: info.address, port: info.port }, 'listening');
        resolve();
      },
    );
    server.once('error', reject);
    continueOnRead(server);
  });
}

function closeServer(): Promise<void> {
  return new Promise((resolve) => {
    if (!server) return resolve();
    server.close(() => resolve());
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
  });
}

/** Applies the saved config: everything is rebuilt; the listener only moves if the address changed. */
async function reload(): Promise<void> {
  try {
    configStore.reload();
  } catch (error) {
    logger.error({ err: error }, 'reload refused: the saved config is invalid');
    return;
  }
  logger.info('reloading configuration');
  await core.close();
  core = await startCore();
  if (configStore.config.address !== listeningOn) {
    await closeServer();
    await listen(configStore.config.address);
  }
}

let shuttingDown = false;
async function shutdown(signal: string): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal }, 'shutting down');
  const forceExit = setTimeout(() => process.exit(1), 15_000);
  forceExit.unref();
  await closeServer();
  await core.close();
  logger.flush();
  process.exit(0);
}

core = await startCore();
if (args.demo) await ensureDemoProcess(core.manager, logger);
await listen(configStore.config.address);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void shutdown(signal));
