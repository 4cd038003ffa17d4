// A data-plane thread with one viewer uplink that never drains, run inside a network namespace whose
// link to the congested viewers is a `tbf` queue at 8 kbit/s (see netns-link.ts): source A goes to
// `congested` viewers through that link (one socket, as behind the UDP mux) and to `healthy` viewers
// on loopback; source B to `healthy` viewers on loopback only. Each frame is `packetsPerFrame`
// packets of `packetSize` bytes, queued and flushed per source as the shard does; the next frame
// starts once the loopback viewers have the last one. Prints, as JSON: what each flush returned and
// how long it took, what each loopback viewer received, and the congested viewers' counters.
// Used by send-deadline.test.ts (counts) and bench/send-deadline.mjs (times).
//   node congested-uplink.mjs '{"addon":"…/dragon-fanout.node","congested":5,"healthy":3,…}'
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { setImmediate as nextTurn } from 'node:timers/promises';

const options = JSON.parse(process.argv[2] ?? '{}');
const { addon: addonPath, congested, healthy, frames, packetsPerFrame, packetSize } = options;
const congestedHost = options.congestedHost ?? '10.78.0.2';
const addon = createRequire(import.meta.url)(addonPath);
const counterCount = 5;

async function bound(host) {
  const socket = createSocket('udp4');
  await new Promise((resolve) => socket.bind(0, host, resolve));
  return socket;
}

const stateSymbol = (socket) =>
  Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === 'state symbol');
const fdOf = (socket) => addon.dup(socket[stateSymbol(socket)].handle.fd);

function stream(fd, host, port, ssrc, counters, index) {
  const created = addon.createStream(7, randomBytes(16), randomBytes(12), null, ssrc, 96);
  addon.setTarget(created, fd, host, port, 4);
  addon.setCounters(created, counters, index * counterCount);
  return created;
}

const congestedSocket = await bound(options.congestedLocal ?? '10.78.0.1');
const loopbackSocket = await bound('127.0.0.1');
const congestedFd = fdOf(congestedSocket);
const loopbackFd = fdOf(loopbackSocket);

const received = [];
async function sink() {
  const socket = await bound('127.0.0.1');
  const index = received.push(0) - 1;
  socket.on('message', () => received[index]++);
  return socket.address().port;
}

const groups = { a: addon.createGroup(), b: addon.createGroup() };
const congestedCounters = new Float64Array(congested * counterCount);
const healthyCounters = new Float64Array(2 * healthy * counterCount);
for (let index = 0; index < congested; index++) {
  const port = 30_000 + index;
  addon.groupAdd(groups.a, stream(congestedFd, congestedHost, port, index + 1, congestedCounters, index));
}
for (const [name, offset] of [
  ['a', 0],
  ['b', healthy],
]) {
  for (let index = 0; index < healthy; index++) {
    const port = await sink();
    const target = stream(
      loopbackFd,
      '127.0.0.1',
      port,
      1000 + offset + index,
      healthyCounters,
      offset + index,
    );
    addon.groupAdd(groups[name], target);
  }
}

const packet = Buffer.alloc(packetSize);
packet[0] = 0x80;
packet[1] = 96;
const flushes = [];
let ext = 0;
for (let frame = 0; frame < frames; frame++) {
  for (const name of ['a', 'b']) {
    const group = groups[name];
    const first = ext;
    const started = process.hrtime.bigint();
    for (let index = 0; index < packetsPerFrame; index++) {
      packet.writeUInt16BE((first + index) & 0xffff, 2);
      addon.groupEnqueue(group, packet, packet.length, first + index);
    }
    const sent = addon.groupFlush(group);
    flushes.push({ group: name, sent, ms: Number(process.hrtime.bigint() - started) / 1e6 });
  }
  ext += packetsPerFrame;
  // Loopback never drops a datagram its receiver has room for: wait until every loopback viewer
  // has read this frame (bounded, so that a loss shows in the counts instead of a hang).
  const expected = (frame + 1) * packetsPerFrame;
  const giveUp = Date.now() + 10_000;
  while (received.some((count) => count < expected) && Date.now() < giveUp) await nextTurn();
}

const sum = (counters, field) => {
  let total = 0;
  for (let offset = 0; offset < counters.length; offset += counterCount) total += counters[offset + field];
  return total;
};
process.stdout.write(
  JSON.stringify({
    flushes,
    received,
    congested: { packets: sum(congestedCounters, 0), dropped: sum(congestedCounters, 4) },
    healthy: { packets: sum(healthyCounters, 0), dropped: sum(healthyCounters, 4) },
  }),
);
process.exit(0);
