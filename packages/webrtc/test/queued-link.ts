import { execFileSync } from 'node:child_process';

/**
 * Two network namespaces joined by a veth pair with a token bucket (`tc tbf`) on the sender's side:
 * a link whose queue holds datagrams, so a socket's send buffer fills as behind a real uplink (on
 * loopback the kernel frees a datagram as it sends it, and the buffer never fills). The sender is
 * 10.77.0.1, the receiver 10.77.0.2.
 */
export interface QueuedLink {
  readonly sender: string;
  readonly receiver: string;
  /** Removes both namespaces (and so the link). Idempotent. */
  remove(): void;
}

export const senderAddress = '10.77.0.1';
export const receiverAddress = '10.77.0.2';

/**
 * The link, or undefined where this machine cannot make it (not root, no iproute2 or tbf). `tag`
 * (two or three letters) keeps the names of two tests' links apart; `tbf` is the queue's
 * parameters (`rate 1gbit burst 64kb latency 200ms`): its rate, and how much it holds before it
 * drops (what it holds is charged to the sending socket).
 */
export function createQueuedLink(tag: string, tbf: string): QueuedLink | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = `${process.pid}`;
  const sender = `dragon-${tag}-a-${id}`;
  const receiver = `dragon-${tag}-b-${id}`;
  const [senderEnd, receiverEnd] = [`d${tag}${id}a`, `d${tag}${id}b`];
  const link: QueuedLink = {
    sender,
    receiver,
    remove() {
      for (const namespace of [sender, receiver]) {
        try {
          execFileSync('ip', ['netns', 'del', namespace], { stdio: 'ignore' });
        } catch {
          // not made, or already gone
        }
      }
    },
  };
  const run = (namespace: string, command: string): void => {
    execFileSync('ip', ['netns', 'exec', namespace, 'sh', '-c', command], { stdio: 'ignore' });
  };
  try {
    execFileSync('ip', ['netns', 'add', sender], { stdio: 'ignore' });
    execFileSync('ip', ['netns', 'add', receiver], { stdio: 'ignore' });
    execFileSync('ip', ['link', 'add', senderEnd, 'type', 'veth', 'peer', 'name', receiverEnd]);
    execFileSync('ip', ['link', 'set', senderEnd, 'netns', sender]);
    execFileSync('ip', ['link', 'set', receiverEnd, 'netns', receiver]);
    run(
      sender,
      `ip link set lo up && ip addr add ${senderAddress}/24 dev ${senderEnd} && ip link set ${senderEnd} up && ` +
        `tc qdisc add dev ${senderEnd} root tbf ${tbf}`,
    );
    run(
      receiver,
      `ip link set lo up && ip addr add ${receiverAddress}/24 dev ${receiverEnd} && ip link set ${receiverEnd} up`,
    );
    return link;
  } catch {
    link.remove();
    return undefined;
  }
}
