// What the video health inspection adds to the per-packet path of an RtpSource (built dist):
// nanoseconds per packet of H264Inspector.inspect, beside what the path already did per packet
// (werift's RtpPacket.deSerialize), and the garbage collections during a
// run of the inspector alone (none: it allocates nothing per packet). Numbers, not assertions.
//   node --expose-gc bench/h264-inspector.mjs [--packets 5000000] [--out file.json]
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { RtpPacket } from 'werift';
import { H264Inspector, readVideoHealth } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    packets: { type: 'string', default: '5000000' },
    out: { type: 'string', default: new URL('./results/h264-inspector.json', import.meta.url).pathname },
  },
});
const total = Number(values.packets);

/** One GOP of 25 frames as FFmpeg's RTP muxer sends a 1 Mbit/s copy: STAP-A + FU-A keyframe, FU-A frames. */
function gop() {
  const packets = [];
  let timestamp = 0;
  const rtp = (payload, ts) => {
    const packet = Buffer.alloc(12 + payload.length);
    packet[0] = 0x80;
    packet[1] = 96;
    packet.writeUInt32BE(ts, 4);
    payload.copy(packet, 12);
    return packet;
  };
  for (let frame = 0; frame < 25; frame++) {
    const key = frame === 0;
    if (key)
      packets.push(
        rtp(Buffer.from([0x78, 0, 4, 0x67, 0x42, 0xe0, 0x1f, 0, 4, 0x68, 0xce, 0x3c, 0x80]), timestamp),
      );
    const fragments = key ? 20 : 4;
    for (let index = 0; index < fragments; index++) {
      const fuHeader = (index === 0 ? 0x80 : 0) | (index === fragments - 1 ? 0x40 : 0) | (key ? 5 : 1);
      packets.push(rtp(Buffer.concat([Buffer.from([0x7c, fuHeader]), Buffer.alloc(1186, 0xab)]), timestamp));
    }
    timestamp += 3600;
  }
  return packets;
}

const packets = gop();
const offsets = 12;

function timeLoop(name, body) {
  // Warm up (JIT), then measure.
  for (let i = 0; i < 200_000; i++) body(packets[i % packets.length], i);
  const started = process.hrtime.bigint();
  for (let i = 0; i < total; i++) body(packets[i % packets.length], i);
  const ns = Number(process.hrtime.bigint() - started) / total;
  return { name, nsPerPacket: Math.round(ns * 10) / 10 };
}

const inspector = new H264Inspector();
// Collect what building the packets left behind, so a collection in the window is the loop's own.
globalThis.gc?.();
let gcs = 0;
const observer = new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
});
observer.observe({ entryTypes: ['gc'] });
const inspect = timeLoop('H264Inspector.inspect', (packet, i) =>
  inspector.inspect(packet, offsets, packet.length - offsets, (Math.floor(i / 105) * 25 * 3600) >>> 0, i),
);
// GC entries are delivered asynchronously.
await new Promise((resolve) => setTimeout(resolve, 100));
const inspectGcs = gcs;
observer.disconnect();

let sink = 0;
const loop = timeLoop('the loop alone (packet pick + timestamp arithmetic)', (packet, i) => {
  sink += packet.length + ((Math.floor(i / 105) * 25 * 3600) >>> 0);
});
const deserialize = timeLoop('werift RtpPacket.deSerialize (already on the path)', (packet) => {
  sink += RtpPacket.deSerialize(packet).header.timestamp;
});

const health = readVideoHealth(inspector.fields);
const results = {
  date: new Date().toISOString(),
  packets: total,
  inspect: { ...inspect, garbageCollections: inspectGcs, gcBeforeRun: typeof globalThis.gc === 'function' },
  deserialize,
  loop,
  accessUnitsSeen: health.accessUnits,
  sink: sink > 0,
};
console.log(`${total} packets (1200-byte H.264 RTP, a 25-frame GOP of STAP-A + FU-A):`);
for (const entry of [loop, inspect, deserialize])
  console.log(`  ${entry.name.padEnd(62)} ${String(entry.nsPerPacket).padStart(7)} ns/packet`);
console.log(`  garbage collections while inspecting: ${inspectGcs}`);
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify(results, null, 2)}\n`);
console.log(`written to ${values.out}`);
