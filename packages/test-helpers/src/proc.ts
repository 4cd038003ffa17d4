import { existsSync, readdirSync, readFileSync } from 'node:fs';

const setpriv = '/usr/bin/setpriv';

/**
 * `command args` run so that it dies with this process (util-linux `setpriv --pdeathsig KILL`): a
 * test or benchmark run that is aborted or crashes leaves no server behind — and through the
 * server's own parent-death signal on FFmpeg, no encoder either. `setpriv` execs the command, so
 * the child's pid is the command's own.
 */
export function tiedToParent(command: string, args: string[]): [string, string[]] {
  return existsSync(setpriv) ? [setpriv, ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, args];
}

/**
 * The fields of `/proc/<pid>/stat` after the name (proc_pid_stat(5)): `[0]` is field 3 (state),
 * `[1]` the parent's pid, `[38]` the scheduling policy. Throws if the process has gone.
 */
export function procStatFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** A process that ended is gone, or a zombie waiting for its parent to reap it. */
export function running(pid: number): boolean {
  try {
    const state = procStatFields(pid)[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The direct children of `pid` (a server's FFmpegs), read from /proc. */
export function childProcesses(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(procStatFields(entry)[1]) === pid) children.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return children;
}
