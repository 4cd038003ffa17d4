import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessManager, type ProcessManagerOptions } from '../src/index.js';

const dirs: string[] = [];
const managers: ProcessManager[] = [];

export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dragon-restream-'));
  dirs.push(dir);
  return dir;
}

export async function createManager(
  options: Omit<ProcessManagerOptions, 'dataDir'> & { dataDir?: string } = {},
): Promise<ProcessManager> {
  const manager = await ProcessManager.create({
    dataDir: options.dataDir ?? tempDir(),
    stopTimeoutMs: 2000,
    ...options,
  });
  managers.push(manager);
  return manager;
}

export async function cleanup(): Promise<void> {
  await Promise.all(managers.splice(0).map((manager) => manager.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * A stand-in FFmpeg: a shell script with the given body. It records its arguments, answers SIGINT
 * like FFmpeg (exit 255), and can write `-progress` blocks to fd 3 with `progress N`.
 */
export function fakeFfmpeg(body: string): { binary: string; argsFile: string } {
  const dir = tempDir();
  const binary = join(dir, 'ffmpeg');
  const argsFile = join(dir, 'args');
  writeFileSync(
    binary,
    `#!/bin/bash
printf '%s\\n' "$@" > ${JSON.stringify(argsFile)}
trap 'exit 255' INT
progress() { printf 'frame=%s\\nfps=25\\nprogress=continue\\n' "$1" >&3; }
${body}
`,
  );
  chmodSync(binary, 0o755);
  return { binary, argsFile };
}

export { waitFor } from '@dragon/test-helpers';

export const nullProcess = {
  input: [{ id: 'in', address: 'testsrc2=size=160x120:rate=25', options: ['-re', '-f', 'lavfi'] }],
  output: [{ id: 'out', address: '-', options: ['-f', 'null'] }],
};
