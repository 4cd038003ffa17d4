import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { waitFor } from '@dragon/test-helpers';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../src/fanout/native-addon.js';
import { createQueuedLink, receiverAddress, senderAddress } from './queued-link.js';

// On loopback the kernel frees a datagram as it sends it, so a socket's send buffer never fills.
// Behind a real link it does: datagrams wait in the queue discipline. A 1 Gbit/s token bucket
// stands in for that link (queued-link.ts), so a frame to several viewers through one socket
// outgrows the 212 KB default send buffer.
const viewers = 10;
const packetsPerFrame = 30;
const frames = 10;

// Counts what each of `viewers` ports receives; prints the counts as JSON on SIGTERM.
const sinkScript = `
import { createSocket } from 'node:dgram';
const counts = new Array(${viewers}).fill(0);
for (let i = 0; i < ${viewers}; i++) {
  // Room for several frames, should this process be slow to read on a busy machine.
  const socket = createSocket({ type: 'udp4', recvBufferSize: 4 * 1024 * 1024 });
  socket.on('message', () => counts[i]++);
  await new Promise((resolve) => socket.bind(21000 + i, '${receiverAddress}', resolve));
}
let done = false;
setInterval(() => {
  if (!done && counts.every((count) => count === ${packetsPerFrame * frames})) {
    done = true;
    console.log('done');
  }
}, 50);
process.on('SIGTERM', () => { process.stdout.write(JSON.stringify(counts)); process.exit(0); });
console.log('ready');
`;

// One group of `viewers` streams on one socket; `frames` batches of full-size packets, 100 ms
// apart; prints how many datagrams the flushes handed to the kernel.
const loaded = loadNativeAddon();
// Built by `pnpm build`; a machine that cannot build it fails below, by design.
const addonPath = 'path' in loaded ? loaded.path : 'the native addon was not built';
const senderScript = `
import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
const addon = createRequire(import.meta.url)(${JSON.stringify(addonPath)});
const socket = createSocket('udp4');
await new Promise((resolve) => socket.bind(0, '${senderAddress}', resolve));
const state = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === 'state symbol');
const fd = addon.dup(socket[state].handle.fd);
const group = addon.createGroup();
for (let v = 0; v < ${viewers}; v++) {
  const stream = addon.createStream(7, randomBytes(16), randomBytes(12), null, v + 1, 96);
  addon.setTarget(stream, fd, '${receiverAddress}', 21000 + v, 4);
  addon.groupAdd(group, stream);
}
const packet = Buffer.alloc(1200);
packet[0] = 0x80;
packet[1] = 96;
let ext = 0;
let sent = 0;
for (let frame = 0; frame < ${frames}; frame++) {
  for (let i = 0; i < ${packetsPerFrame}; i++) {
    packet.writeUInt16BE(ext & 0xffff, 2);
    addon.groupEnqueue(group, packet, packet.length, ext++);
  }
  sent += addon.groupFlush(group);
  await new Promise((resolve) => setTimeout(resolve, 100));
}
process.stdout.write(String(sent));
process.exit(0);
`;

// Root with iproute2 and the tbf queue discipline (CI has them); elsewhere there is no link to test.
const link = createQueuedLink('sq', 'rate 1gbit burst 64kb latency 200ms');

describe.skipIf(!link)('the native fan-out behind a link that queues', () => {
  let sink: ChildProcess | undefined;

  afterAll(() => {
    sink?.kill('SIGKILL');
    link?.remove();
  });

  it('waits for room in a full send buffer instead of losing the rest of a frame', async () => {
    const child = spawn(
      'ip',
      ['netns', 'exec', link!.receiver, process.execPath, '--input-type=module', '-e', sinkScript],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    sink = child;
    let sinkOutput = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      sinkOutput += chunk.toString();
    });
    await waitFor('the sink is listening', () => sinkOutput.includes('ready'));

    // Each frame is 10 × 30 × 1.2 KB ≈ 360 KB through one socket: more than its send buffer holds.
    const { stdout: sent } = await promisify(execFile)(
      'ip',
      ['netns', 'exec', link!.sender, process.execPath, '--input-type=module', '-e', senderScript],
      { encoding: 'utf8', timeout: 40_000 },
    );
    const total = viewers * packetsPerFrame * frames;

    expect(Number(sent)).toBe(total);
    // Every datagram arrives (a lost one never does: the counts below then say which viewer).
    await waitFor('every viewer has every packet', () => sinkOutput.includes('done')).catch(() => undefined);
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
    const counts = JSON.parse(sinkOutput.slice(sinkOutput.lastIndexOf('\n') + 1)) as number[];
    expect(counts).toEqual(new Array(viewers).fill(packetsPerFrame * frames));
  });
});
