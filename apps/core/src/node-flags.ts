/**
 * The `node` flags the server runs with, whoever starts it (`./dragon start`, the image's
 * ENTRYPOINT, `pnpm start`, a service manager, the test and benchmark harnesses): `main.js`
 * re-executes itself with the missing ones, as the same process (execve keeps the pid, so tini,
 * systemd and a parent-death signal see no difference). This list is their one owner.
 *
 * `--max-semi-space-size=4`: V8 grows its young generation with the allocation rate, up to
 * 64–128 MiB, and every long-lived viewer makes objects survive scavenges, which grows it; once
 * grown and touched it stays resident. Capped at 4 MiB semi-spaces, RSS per idle viewer of the
 * built server falls by about half, with no CPU cost measured (docs/performance.md, memory).
 */
export const serverNodeFlags: readonly string[] = ['--max-semi-space-size=4'];

/** `--max_semi_space_size=8` → `--max-semi-space-size` (V8 takes either spelling). */
function flagName(flag: string): string {
  const name = flag.split('=')[0] ?? flag;
  return `--${name.replace(/^--?/, '').replaceAll('_', '-')}`;
}

/**
 * The flags of `wanted` that neither the command line (`execArgv`) nor `NODE_OPTIONS` gives a
 * value already: an operator's own setting wins.
 *
 * @example
 * missingNodeFlags(['--max-semi-space-size=4'], ['--inspect'], undefined) // ['--max-semi-space-size=4']
 * missingNodeFlags(['--max-semi-space-size=4'], [], '--max_semi_space_size=16') // []
 */
export function missingNodeFlags(
  wanted: readonly string[],
  execArgv: readonly string[],
  nodeOptions: string | undefined,
): string[] {
  const given = new Set(
    [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].filter((arg) => arg.startsWith('-')).map(flagName),
  );
  return wanted.filter((flag) => !given.has(flagName(flag)));
}

/**
 * Replaces this process with itself run with `serverNodeFlags` when some are missing; returns
 * when none is (or when this Node has no `process.execve`, before 22.15: the server then runs on
 * V8's defaults).
 */
export function relaunchWithServerFlags(): void {
  const missing = missingNodeFlags(serverNodeFlags, process.execArgv, process.env.NODE_OPTIONS);
  const script = process.argv[1];
  if (missing.length === 0 || typeof process.execve !== 'function' || !script) return;
  process.execve(
    process.execPath,
    [process.execPath, ...missing, ...process.execArgv, script, ...process.argv.slice(2)],
    process.env,
  );
}
