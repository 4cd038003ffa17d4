import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  listenAddressSchema,
  rtmpServerDefaults,
  rtmpServerOptionsSchema,
  srtServerOptionsSchema,
} from '@dragon/ingest';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema } from '../src/config/config-schema.js';
import * as serviceOptions from '../src/datarhei-service-options.js';
import { rtmpServerOptionsOf, srtServerOptionsOf } from '../src/datarhei-service-options.js';
import * as servicesModule from '../src/datarhei-services.js';
import { DatarheiServices } from '../src/datarhei-services.js';

const directories: string[] = [];
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

/** The config an empty file gives, with its directories in a temp folder instead of the working directory. */
function emptyConfig() {
  const dbDir = mkdtempSync(join(tmpdir(), 'dragon-services-config-'));
  directories.push(dbDir);
  return configSchema.parse({ db: { dir: dbDir }, storage: { disk: { dir: join(dbDir, 'disk') } } });
}

const boot = (config: ReturnType<typeof emptyConfig>) =>
  DatarheiServices.create({
    config,
    logger: pino({ level: 'silent' }),
    startedAt: new Date(),
    httpAddress: () => '127.0.0.1:8080',
    clientAddress: () => undefined,
    guard: async (_c, next) => next(),
  });

describe("datarhei's services and the config schema: one declaration of every key and default", () => {
  it("gives the memfs the config's generated password, the same at every boot, never an empty or per-boot one", async () => {
    const config = emptyConfig();
    const first = await boot(config);
    const second = await boot(config);
    try {
      const credentials = new URL(first.memfsUrl());
      expect(config.storage.memory.auth.password).toMatch(/^[A-Za-z0-9]{18}$/);
      expect(decodeURIComponent(credentials.username)).toBe(config.storage.memory.auth.username);
      expect(decodeURIComponent(credentials.password)).toBe(config.storage.memory.auth.password);
      expect(second.memfsUrl()).toBe(first.memfsUrl());
      expect(first.disk.root).toBe(resolve(config.storage.disk.dir));
      // RTMP and SRT are off in an empty config, so no server listens.
      expect(first.rtmp).toBeUndefined();
      expect(first.srt).toBeUndefined();
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('boots with every value the config accepts for switched-off metrics and sessions', async () => {
    const base = emptyConfig();
    const config = configSchema.parse({
      db: base.db,
      storage: base.storage,
      metrics: { enable: false, range_sec: 0, interval_sec: 0 },
      sessions: { enable: false, session_timeout_sec: 0 },
    });
    const services = await boot(config);
    await services.close();
  });

  it("hands the RTMP and SRT servers exactly @dragon/ingest's defaults for an empty config", () => {
    const config = configSchema.parse({});
    expect(rtmpServerOptionsSchema.parse(rtmpServerOptionsOf(config))).toEqual(rtmpServerDefaults);
    expect(srtServerOptionsSchema.parse(srtServerOptionsOf(config))).toEqual(
      srtServerOptionsSchema.parse({}),
    );
  });

  it("accepts and refuses listen addresses exactly as @dragon/ingest's one pattern does", () => {
    const addresses = [
      ':1935',
      ':0',
      '127.0.0.1:1935',
      'localhost:6000',
      '[::1]:1935',
      '[::]:8080',
      '::1:1935',
      '1935',
      ':65535',
      ':65536',
      ':123456',
      'host :1935',
      '',
    ];
    const fields = [
      (address: string) => ({ address }),
      (address: string) => ({ tls: { address } }),
      (address: string) => ({ rtmp: { address } }),
      (address: string) => ({ rtmp: { address_tls: address } }),
      (address: string) => ({ srt: { address } }),
    ];
    for (const address of addresses) {
      const expected = listenAddressSchema.safeParse(address).success;
      for (const field of fields) {
        expect({
          address,
          field: field('…'),
          accepted: configSchema.safeParse(field(address)).success,
        }).toEqual({
          address,
          field: field('…'),
          accepted: expected,
        });
      }
    }
  });

  it("refuses a bad RTMP app or SRT passphrase in the config as @dragon/ingest's servers do, in the same words", () => {
    const issues = (input: unknown, schema: z.ZodType) =>
      schema.safeParse(input).error?.issues.map(({ message }) => message);
    const app = issues({ rtmp: { app: 'live' } }, configSchema);
    const passphrase = issues({ srt: { passphrase: 'too-short' } }, configSchema);

    expect(app).toEqual(issues({ app: 'live' }, rtmpServerOptionsSchema));
    expect(app).toEqual(['must be an absolute path']);
    expect(passphrase).toEqual(issues({ passphrase: 'too-short' }, srtServerOptionsSchema));
    expect(passphrase).toEqual(['Too small: expected string to have >=10 characters']);
  });

  it('declares no schema of its own beside the config schema', () => {
    const declared = Object.entries({ ...servicesModule, ...serviceOptions }).filter(
      ([, value]) => value instanceof z.ZodType,
    );
    expect(declared.map(([name]) => name)).toEqual([]);
  });
});
