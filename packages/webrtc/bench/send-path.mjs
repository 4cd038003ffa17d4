// Send-path micro-benchmark: the cost of turning one RTP packet into SRTP datagrams for N viewers,
// per packet and viewer, for the three designs measured when the data plane was chosen:
//   werift  what werift's RTCRtpSender.sendRtp did per viewer: clone the packet, rewrite the header,
//           a new cipher per packet (KeyObject keys), one dgram send per datagram
//   js      the JavaScript fallback: header patched in a copy, a new cipher per packet, one dgram send
//   native  the addon: prepared cipher contexts, all viewers in one sendmmsg(2)
// Prints user and system CPU per packet and viewer. Run under callgrind for instruction counts that
// a busy machine cannot disturb (CALLGRIND=1 zeroes and dumps the counters around the measured loop):
//   node bench/send-path.mjs [--mode native] [--profile gcm|cm] [--packets 4000] [--viewers 50]
//   CALLGRIND=1 valgrind --tool=callgrind --smc-check=all-non-file node bench/send-path.mjs --mode js
// Needs `pnpm build` (the addon is build/dragon-fanout.node). A tool, not the headline: see
// docs/performance.md for the end-to-end figures.
import { execFileSync, spawn } from 'node:child_process';
import { createCipheriv, createHmac, createSecretKey, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { RtpPacket, SrtpSession } from 'werift';

const { values } = parseArgs({
  options: {
    mode: { type: 'string', default: 'native' },
    profile: { type: 'string', default: 'gcm' },
    packets: { type: 'string', default: '4000' },
    viewers: { type: 'string', default: '50' },
  },
});
const packets = Number(values.packets);
const viewerCount = Number(values.viewers);
const profile = values.profile === 'cm' ? 1 : 7;
const callgrind = process.env.CALLGRIND === '1';

// The receiver is another process: the kernel's send path runs in full, its receive costs are not
// counted here.
const sink = spawn(process.execPath, [
  '-e',
  "const s=require('node:dgram').createSocket('udp4');s.bind(0,'127.0.0.1',()=>process.stdout.write(String(s.address().port)));",
]);
const sinkPort = await new Promise((resolve) => sink.stdout.once('data', (data) => resolve(Number(data))));
const socket = createSocket('udp4');
await new Promise((resolve) => socket.bind(0, '127.0.0.1', resolve));
socket.on('error', () => undefined);

const raw = Buffer.concat([Buffer.from([0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0x11, 0x11]), randomBytes(1188)]);

function viewers() {
  const saltLength = profile === 1 ? 14 : 12;
  return Array.from({ length: viewerCount }, () => {
    const srtp = new SrtpSession({
      keys: {
        localMasterKey: randomBytes(16),
        localMasterSalt: randomBytes(saltLength),
        remoteMasterKey: randomBytes(16),
        remoteMasterSalt: randomBytes(saltLength),
      },
      profile,
    });
    const cipher = srtp.localContext.cipher;
    const keys = {
      key: cipher.srtpSessionKey,
      salt: cipher.srtpSessionSalt,
      authKey: cipher.srtpSessionAuthTag ?? null,
    };
    // As the factory's peers did: KeyObjects, not Buffers, in werift's cipher (srtp-keys.ts).
    for (const field of ['srtpSessionKey', 'srtpSessionAuthTag']) {
      if (Buffer.isBuffer(cipher[field]) && cipher[field].length > 0) {
        cipher[field] = createSecretKey(cipher[field]);
      }
    }
    return { srtp, keys, ssrc: randomBytes(4).readUInt32BE(0), cache: [], iv: Buffer.alloc(16) };
  });
}

const modes = {
  werift() {
    const list = viewers();
    return (seq) => {
      raw.writeUInt16BE(seq & 0xffff, 2);
      const parsed = RtpPacket.deSerialize(raw);
      for (const viewer of list) {
        const rtp = parsed.clone();
        rtp.header.ssrc = viewer.ssrc;
        rtp.header.payloadType = 97;
        viewer.cache[rtp.header.sequenceNumber % 128] = rtp;
        socket.send(viewer.srtp.encrypt(rtp.payload, rtp.header), sinkPort, '127.0.0.1');
      }
    };
  },
  js() {
    const list = viewers().map((viewer) => ({
      ...viewer,
      key: createSecretKey(viewer.keys.key),
      authKey: viewer.keys.authKey && createSecretKey(viewer.keys.authKey),
    }));
    return (seq) => {
      raw.writeUInt16BE(seq & 0xffff, 2);
      for (const viewer of list) {
        const out = Buffer.allocUnsafe(raw.length + 16);
        raw.copy(out);
        out[1] = 97;
        out.writeUInt32BE(viewer.ssrc, 8);
        const iv = viewer.iv;
        iv.writeUInt32BE(viewer.ssrc, 4);
        iv.writeUInt16BE(seq & 0xffff, 12);
        if (profile === 7) {
          const cipher = createCipheriv('aes-128-gcm', viewer.key, iv.subarray(0, 12));
          cipher.setAAD(out.subarray(0, 12));
          cipher.update(raw.subarray(12)).copy(out, 12);
          cipher.final();
          cipher.getAuthTag().copy(out, raw.length);
          socket.send(out, sinkPort, '127.0.0.1');
        } else {
          createCipheriv('aes-128-ctr', viewer.key, iv).update(raw.subarray(12)).copy(out, 12);
          createHmac('sha1', viewer.authKey)
            .update(out.subarray(0, raw.length))
            .digest()
            .copy(out, raw.length);
          socket.send(out.subarray(0, raw.length + 10), sinkPort, '127.0.0.1');
        }
      }
    };
  },
  native() {
    const addon = createRequire(import.meta.url)('../build/dragon-fanout.node');
    const state = Object.getOwnPropertySymbols(socket).find(
      (symbol) => symbol.description === 'state symbol',
    );
    const fd = addon.dup(socket[state].handle.fd);
    const group = addon.createGroup();
    const counters = new Float64Array(viewerCount * 5);
    viewers().forEach((viewer, index) => {
      const { key, salt, authKey } = viewer.keys;
      const stream = addon.createStream(profile, key, salt, profile === 1 ? authKey : null, viewer.ssrc, 97);
      addon.setTarget(stream, fd, '127.0.0.1', sinkPort, 4);
      addon.setCounters(stream, counters, index * 5);
      addon.groupAdd(group, stream);
    });
    return (seq) => {
      raw.writeUInt16BE(seq & 0xffff, 2);
      addon.groupEnqueue(group, raw, raw.length, seq);
      addon.groupFlush(group);
    };
  },
};

const step = modes[values.mode]?.();
if (!step) throw new Error(`--mode is one of ${Object.keys(modes).join(', ')}`);
// Warm up (JIT, pools) before measuring.
for (let seq = 0; seq < 300; seq++) step(seq);
await new Promise((resolve) => setTimeout(resolve, 100));
if (callgrind) execFileSync('callgrind_control', ['-z', String(process.pid)]);
const before = process.cpuUsage();
let seq = 300;
// Packets arrive in bursts of ten per event-loop turn, so that the sends' async work completes.
await new Promise((resolve) => {
  const turn = () => {
    for (let index = 0; index < 10 && seq < packets + 300; index++) step(seq++);
    if (seq < packets + 300) setImmediate(turn);
    else setTimeout(resolve, 200);
  };
  turn();
});
const cpu = process.cpuUsage(before);
if (callgrind) execFileSync('callgrind_control', ['-d', String(process.pid)]);
const per = (micros) => (micros / packets / viewerCount).toFixed(2);
console.log(
  `${values.mode} (${profile === 7 ? 'AES-GCM' : 'AES-CM + HMAC-SHA1'}), ${viewerCount} viewers, ${packets} packets: ` +
    `${per(cpu.user)} µs user + ${per(cpu.system)} µs system per packet and viewer`,
);
socket.close();
sink.kill();
