import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A viewer's network namespace behind a veth pair whose host end shapes what the server sends it
 * with a token bucket (`tc tbf`): the server stays in the root namespace and reaches the viewer
 * at `viewer` through `host`; a browser runs inside through `chromiumPath`, a wrapper that
 * `ip netns exec`s Chromium (playwright's pipe survives the exec).
 */
export interface CappedLink {
  readonly namespace: string;
  /** The server's address on the link (host end). */
  readonly host: string;
  /** The viewer's address (inside the namespace). */
  readonly viewer: string;
  /** Executable that starts Chromium inside the namespace. */
  readonly chromiumPath: string;
  /** Caps what reaches the viewer (`600kbit`), or lifts the cap (`undefined`). */
  cap(rate: string | undefined): void;
  /**
   * Drops this percentage of the UDP datagrams that reach the viewer, at random (nftables
   * `numgen random` in the viewer's namespace: this kernel has no netem), or stops (`undefined`).
   * Throws where `nft` is missing; see {@link canDropAtRandom}.
   */
  loss(percent: number | undefined): void;
  /** Removes the namespace, the link and the wrapper. Idempotent. */
  remove(): void;
}

/** The nftables table of a link's random loss, in the viewer's namespace. */
const lossTable = 'dragon_loss';

/** Whether `CappedLink.loss` can work here (`nft` runs), or why not. */
export function canDropAtRandom(): true | string {
  try {
    execFileSync('nft', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return 'random loss needs nftables (nft): install it, or run scripts/bootstrap.sh --with-browser';
  }
}

/**
 * The link, or a reason why this machine cannot make it (not root, no namespaces, no tbf). `tag`
 * keeps the names of two tests' links apart; names carry the process id as well.
 */
export function createCappedLink(tag: string): CappedLink | string {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  const pid = process.pid;
  const namespace = `dragon-${tag}-${pid}`;
  const hostEnd = `${tag}${pid}h`.slice(-15);
  const viewerEnd = `${tag}${pid}v`.slice(-15);
  // A /30 of its own per process, so that two runs' routes never overlap.
  const subnet = `10.${100 + (pid % 100)}.${(pid >> 8) % 250}`;
  const host = `${subnet}.1`;
  const viewer = `${subnet}.2`;
  const directory = mkdtempSync(join(tmpdir(), `dragon-${tag}-`));
  const chromiumPath = join(directory, 'chromium-in-namespace');
  const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  let removed = false;
  const link: CappedLink = {
    namespace,
    host,
    viewer,
    chromiumPath,
    cap(rate) {
      // Uncapped is a plain FIFO: the veth itself drops nothing.
      const qdisc =
        rate === undefined ? ['pfifo'] : ['tbf', 'rate', rate, 'burst', '10kb', 'latency', '50ms'];
      execFileSync('tc', ['qdisc', 'replace', 'dev', hostEnd, 'root', ...qdisc]);
    },
    loss(percent) {
      const inNamespace = ['netns', 'exec', namespace, 'nft'];
      try {
        execFileSync('ip', [...inNamespace, 'delete', 'table', 'inet', lossTable], { stdio: 'ignore' });
      } catch {
        // no loss set yet
      }
      if (percent === undefined) return;
      const rule = `meta l4proto udp numgen random mod 100 < ${Math.round(percent)} drop`;
      execFileSync('ip', [...inNamespace, '-f', '-'], {
        input: [
          `table inet ${lossTable} {`,
          '  chain input {',
          '    type filter hook input priority 0; policy accept;',
          `    ${rule}`,
          '  }',
          '}',
          '',
        ].join('\n'),
      });
    },
    remove() {
      if (removed) return;
      removed = true;
      for (const args of [
        ['link', 'del', hostEnd],
        ['netns', 'del', namespace],
      ]) {
        try {
          execFileSync('ip', args, { stdio: 'ignore' });
        } catch {
          // not made, or already gone with the namespace
        }
      }
      rmSync(directory, { recursive: true, force: true });
    },
  };
  try {
    execFileSync('ip', ['netns', 'add', namespace], { stdio: 'ignore' });
    execFileSync('ip', ['link', 'add', hostEnd, 'type', 'veth', 'peer', 'name', viewerEnd]);
    execFileSync('ip', ['link', 'set', viewerEnd, 'netns', namespace]);
    execFileSync('ip', ['addr', 'add', `${host}/30`, 'dev', hostEnd]);
    execFileSync('ip', ['link', 'set', hostEnd, 'up']);
    execFileSync('ip', [
      ...['netns', 'exec', namespace, 'sh', '-c'],
      `ip link set lo up && ip addr add ${viewer}/30 dev ${viewerEnd} && ip link set ${viewerEnd} up`,
    ]);
    link.cap(undefined);
    writeFileSync(chromiumPath, `#!/bin/sh\nexec ip netns exec ${namespace} ${chromium} "$@"\n`);
    chmodSync(chromiumPath, 0o755);
    return link;
  } catch (error) {
    link.remove();
    return `the kernel refused a network namespace with a veth link: ${(error as Error).message}`;
  }
}
