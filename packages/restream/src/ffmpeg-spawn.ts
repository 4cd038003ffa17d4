import { type ChildProcess, type SpawnOptions, spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, resolve } from 'node:path';

/** What FFmpeg is spawned with: its environment and working directory are the access policy's. */
export interface FFmpegSpawnOptions {
  stdio: SpawnOptions['stdio'];
  env: Record<string, string>;
  cwd: string;
}

/**
 * Spawns FFmpeg so that it dies with the server. Through util-linux `setpriv --pdeathsig KILL`, the
 * child has the kernel's parent-death signal set (prctl `PR_SET_PDEATHSIG`, kept across its execve
 * of FFmpeg): however the server ends — SIGKILL and the OOM killer included — the kernel SIGKILLs its
 * FFmpegs. Without it they were re-parented to init and kept encoding until a server started again
 * on the same data directory and reaped them (`ChildRegistry`, still the second line of defence).
 *
 * The kernel ties the signal to the *thread* that spawned the child: a manager created in a worker
 * thread takes its FFmpegs down when that worker ends.
 *
 * Where `setpriv` has no `--pdeathsig` (not Linux, util-linux before 2.33) FFmpeg is spawned directly.
 * @throws Error as `spawn` would throw or emit it (`code` ENOENT or EACCES) when `binary` cannot be run:
 * under `setpriv` such a failure would otherwise show as an exit of `setpriv`, not as a failed spawn.
 */
export function spawnFFmpeg(
  binary: string,
  args: readonly string[],
  options: FFmpegSpawnOptions,
): ChildProcess {
  const setpriv = parentDeathSetpriv();
  if (setpriv === undefined) return spawn(binary, args, options);
  const executable = findExecutable(binary, options.env.PATH, options.cwd);
  return spawn(setpriv, ['--pdeathsig', 'KILL', '--', executable, ...args], options);
}

let detected: { setpriv: string | undefined } | undefined;

/** The `setpriv` that can set a parent-death signal, found once per process; undefined when there is none. */
export function parentDeathSetpriv(): string | undefined {
  detected ??= { setpriv: detectSetpriv() };
  return detected.setpriv;
}

function detectSetpriv(): string | undefined {
  if (process.platform !== 'linux') return undefined;
  let setpriv: string;
  try {
    setpriv = findExecutable('setpriv', `${process.env.PATH ?? ''}${delimiter}/usr/bin${delimiter}/bin`, '/');
  } catch {
    return undefined;
  }
  // Runs itself under the option: an older setpriv refuses `--pdeathsig` and exits non-zero.
  const check = spawnSync(setpriv, ['--pdeathsig', 'KILL', '--', setpriv, '--version'], {
    stdio: 'ignore',
    timeout: 10_000,
  });
  return check.status === 0 ? setpriv : undefined;
}

/**
 * The file `execvp` would run for `binary`: the path itself when it has a slash (relative to `cwd`),
 * else the first executable regular file of that name on `path`.
 */
function findExecutable(binary: string, path: string | undefined, cwd: string): string {
  const candidates = binary.includes('/')
    ? [resolve(cwd, binary)]
    : (path ?? '').split(delimiter).map((dir) => resolve(cwd, dir === '' ? '.' : dir, binary));
  let denied = false;
  for (const candidate of candidates) {
    try {
      if (!statSync(candidate).isFile()) {
        denied = true;
        continue;
      }
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EACCES') denied = true;
    }
  }
  throw spawnError(binary, denied ? 'EACCES' : 'ENOENT');
}

/** The error Node's `spawn` reports for the same failure, word for word. */
function spawnError(binary: string, code: 'ENOENT' | 'EACCES'): NodeJS.ErrnoException {
  return Object.assign(new Error(`spawn ${binary} ${code}`), {
    code,
    errno: code === 'ENOENT' ? -2 : -13,
    syscall: `spawn ${binary}`,
    path: binary,
  });
}
