import type { AddressInfo } from 'node:net';
import { isLoopbackAddress } from '@dragon/portalloc';
import type { ServerType } from '@hono/node-server';
import type { Logger } from 'pino';
import type { Config } from './config/config-schema.js';
import type { ConfigStore } from './config/config-store.js';
import { ConfigInvalidError } from './config/errors.js';
import { type Core, type CoreOptions, createCore } from './core.js';
import { closeServer, listen, listenTarget } from './http-listener.js';
import type { LogRing } from './ops/log-ring.js';

export type ReloadOutcome =
  | { status: 'applied' }
  | { status: 'refused'; reason: string }
  | { status: 'rolled-back'; reason: string };

export interface RuntimeOptions {
  configStore: ConfigStore;
  logger: Logger;
  /** @default createCore */
  createCore?: (options: CoreOptions) => Promise<Core>;
  /** A reload failed and so did going back to the last good config: the owner should exit. */
  onFatal?: (error: unknown) => void;
  /** The logger's recent lines, for `GET /api/v3/log`. */
  logRing?: LogRing;
}

/** Whether the API answers anyone who can reach a non-loopback address without credentials. */
export function isOpenToNetwork(config: Config): boolean {
  const { hostname } = listenTarget(config.address);
  return !config.api.auth.enable && !(hostname === 'localhost' || isLoopbackAddress(hostname));
}

/**
 * The running server: one core (process manager, WebRTC, API) behind one HTTP listener. A reload is
 * tried before it is kept: a config that does not validate is refused, and one whose core or listener
 * cannot start is rolled back to the last config that ran — the server never ends up without an API.
 */
export class Runtime {
  readonly #options: RuntimeOptions;
  readonly #createCore: (options: CoreOptions) => Promise<Core>;
  #core: Core;
  #server: ServerType;
  #listeningOn: string;
  #reloading: Promise<ReloadOutcome> | undefined;
  /** A reload is replacing the core: requests get a 503 until it is done. */
  #rebuilding = false;
  #closed = false;

  private constructor(options: RuntimeOptions, core: Core, server: ServerType, address: string) {
    this.#options = options;
    this.#createCore = options.createCore ?? createCore;
    this.#core = core;
    this.#server = server;
    this.#listeningOn = address;
  }

  /** @throws ListenError, or what creating the core throws (FFmpeg missing, a corrupt store, a port in use). */
  static async start(options: RuntimeOptions): Promise<Runtime> {
    const config = options.configStore.config;
    let runtime: Runtime | undefined;
    const core = await (options.createCore ?? createCore)({
      configStore: options.configStore,
      config,
      logger: options.logger,
      requestReload: () => runtime?.requestReload(),
      httpAddress: () => runtime?.boundAddress ?? config.address,
      ...(options.logRing ? { logRing: options.logRing } : {}),
    });
    let server: ServerType;
    try {
      server = await listen(config.address, (request, env) => runtime!.#fetch(request, env));
    } catch (error) {
      await core.close();
      throw error;
    }
    runtime = new Runtime(options, core, server, config.address);
    runtime.#announce(config);
    return runtime;
  }

  get core(): Core {
    return this.#core;
  }

  /** Where the HTTP server listens (the real port when the config says 0). */
  get address(): AddressInfo {
    return this.#server.address() as AddressInfo;
  }

  /** `host:port` as bound: `{memfs}` URLs carry the real port even when `address` asked for 0. */
  get boundAddress(): string {
    return `${listenTarget(this.#listeningOn).hostname ?? ''}:${this.address.port}`;
  }

  /** Applies the saved config (`GET /api/v3/config/reload`); one reload at a time. */
  reload(): Promise<ReloadOutcome> {
    const previous = this.#reloading ?? Promise.resolve();
    const next = previous.then(() => this.#reload());
    this.#reloading = next;
    return next;
  }

  /** A reload asked for over the API: its outcome is logged; only a failed rollback goes to `onFatal`. */
  requestReload(): void {
    this.reload().catch((error: unknown) => {
      if (this.#options.onFatal) this.#options.onFatal(error);
      else this.#options.logger.fatal({ err: error }, 'the last good config could not be restored');
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#reloading;
    await closeServer(this.#server);
    await this.#core.close();
  }

  /**
   * Every request, handed on with its Node `env`: without it no route could tell one client's address
   * from another's (per-client limits, the loopback exemption, session addresses).
   */
  #fetch(request: Request, env: unknown): Response | Promise<Response> {
    if (this.#rebuilding) {
      return Response.json(
        { code: 503, message: 'Service Unavailable', details: ['reloading the configuration'] },
        {
          status: 503,
          headers: { 'Retry-After': '1' },
        },
      );
    }
    return this.#core.app.fetch(request, env);
  }

  async #reload(): Promise<ReloadOutcome> {
    if (this.#closed) return { status: 'refused', reason: 'the server is shutting down' };
    const { configStore, logger } = this.#options;
    let candidate: Config;
    try {
      candidate = configStore.reload();
    } catch (error) {
      const reason = error instanceof ConfigInvalidError ? error.details.join('; ') : String(error);
      logger.error(
        { errors: reason },
        'reload refused: the saved config is invalid; the running config stays',
      );
      return { status: 'refused', reason };
    }
    const lastGood = configStore.config;
    logger.info('reloading configuration');
    this.#rebuilding = true;
    try {
      try {
        await this.#replace(candidate);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        logger.error({ err: error }, 'reload failed; going back to the last config that ran');
        await this.#replace(lastGood);
        return { status: 'rolled-back', reason };
      }
    } finally {
      this.#rebuilding = false;
    }
    configStore.applied(candidate);
    this.#announce(candidate);
    return { status: 'applied' };
  }

  /** Swaps core and, when the address changed, listener; on failure nothing of `config` is left running. */
  async #replace(config: Config): Promise<void> {
    await this.#core.close();
    this.#core = await this.#createCore({
      configStore: this.#options.configStore,
      config,
      logger: this.#options.logger,
      requestReload: () => this.requestReload(),
      httpAddress: () => this.boundAddress,
      ...(this.#options.logRing ? { logRing: this.#options.logRing } : {}),
    });
    if (config.address === this.#listeningOn) return;
    await closeServer(this.#server);
    try {
      this.#server = await listen(config.address, (request, env) => this.#fetch(request, env));
      this.#listeningOn = config.address;
    } catch (error) {
      this.#server = await listen(this.#listeningOn, (request, env) => this.#fetch(request, env));
      throw error;
    }
  }

  #announce(config: Config): void {
    const { port, address } = this.address;
    this.#options.logger.info({ address, port }, 'listening');
    if (isOpenToNetwork(config)) {
      this.#options.logger.warn(
        { address: config.address },
        'THE API IS OPEN: api.auth.enable is false and the server listens beyond loopback — anyone who can reach this port controls the server. Set api.auth.enable with a username and password, or listen on 127.0.0.1.',
      );
    }
  }
}
