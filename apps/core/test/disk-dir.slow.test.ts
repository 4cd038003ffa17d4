import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runServer } from '@dragon/test-helpers/server';
import { afterAll, expect, it } from 'vitest';

const base = mkdtempSync(join(tmpdir(), 'dragon-diskdir-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** Starts the built server; resolves when it exits, or when it listens (then it is killed: it should not have). */
const boot = (env: Record<string, string>) => runServer({ env: { CORE_WEBRTC_ENABLE: 'false', ...env } });

it("refuses at boot, with a clear message, a disk directory that is a symbolic link to the data directory's parent", async () => {
  const dataDir = join(base, 'config');
  mkdirSync(dataDir);
  const link = join(base, 'public');
  symlinkSync(base, link);
  const result = await boot({ CORE_DB_DIR: dataDir, CORE_STORAGE_DISK_DIR: link });
  expect(result.listened).toBe(false);
  expect(result.code).toBe(1);
  expect(result.stderr).toMatch(/^dragon-core: the configuration \(.*config\.json\) is invalid:\n/);
  expect(result.stderr).toContain(`storage.disk.dir: ${link} (really ${base}) contains db.dir`);
  expect(result.stderr).not.toMatch(/\n\s+at /);
});

it('refuses at boot a disk directory in /etc', async () => {
  const dataDir = join(base, 'config-etc');
  mkdirSync(dataDir);
  const result = await boot({ CORE_DB_DIR: dataDir, CORE_STORAGE_DISK_DIR: '/etc' });
  expect(result.listened).toBe(false);
  expect(result.stderr).toContain('storage.disk.dir: /etc is in the system directory /etc');
});
