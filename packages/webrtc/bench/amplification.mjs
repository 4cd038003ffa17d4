// Amplification benchmark: what a party without ICE credentials can make the server send
// (built dist). Numbers, not assertions; prints a table and writes JSON.
//   node bench/amplification.mjs [--candidates 200] [--seconds 20] [--out bench/results/amplification.json]
//
// 1. One offer whose candidates all point at a third address (127.0.0.77, where this script
//    listens on one socket per candidate): how many datagrams the server sends there.
// 2. One STUN binding request carrying a viewer's USERNAME (plaintext on the wire) but no
//    MESSAGE-INTEGRITY, from a third address: how many bytes come back to that address.
// Both with one socket per viewer and through the UDP mux.
import { createSocket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { handwrittenOffer } from '@dragon/test-helpers';
import { PeerFactory, RtpSource, UdpMux } from '../dist/index.js';

const { values } = parseArgs({
  options: {
    candidates: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '20' },
    out: { type: 'string', default: new URL('./results/amplification.json', import.meta.url).pathname },
  },
});
const candidateCount = Number(values.candidates);
const seconds = Number(values.seconds);
const target = '127.0.0.77';

/** The benchmark's offer: H.264 video, one host candidate per port at the target address. */
const offer = (ports) =>
  handwrittenOffer(
    'video',
    ports.map(
      (port, index) => `a=candidate:${index} 1 udp ${2_000_000_000 - index} ${target} ${port} typ host`,
    ),
  );

const bind = (address) =>
  new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.bind(0, address, () => resolve(socket));
  });

async function setup(mode) {
  const mux = mode === 'mux' ? await UdpMux.open({ port: 0, address: '127.0.0.1' }) : undefined;
  const source = await RtpSource.open({ id: 'cam', video: { payloadType: 96 } });
  const factory = new PeerFactory({
    interfaceAddresses: ['127.0.0.1'],
    udpMux: mux,
    disconnectTimeoutMs: 30_000,
  });
  return {
    factory,
    source,
    close: async () => {
      await factory.close();
      source.close();
      mux?.close();
    },
  };
}

async function candidateFlood(mode) {
  const { factory, source, close } = await setup(mode);
  const sockets = await Promise.all(Array.from({ length: candidateCount }, () => bind(target)));
  const received = { datagrams: 0, bytes: 0 };
  for (const socket of sockets)
    socket.on('message', (data) => {
      received.datagrams++;
      received.bytes += data.length;
    });
  const sdp = offer(sockets.map((socket) => socket.address().port));
  const started = Date.now();
  let refused;
  let peer;
  try {
    ({ peer } = await factory.createPeer(source, sdp));
  } catch (error) {
    refused = error.code ?? error.message;
  }
  if (peer) {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, seconds * 1000);
      peer.once('closed', () => {
        clearTimeout(timer);
        // Retransmissions already in flight land within a few hundred milliseconds.
        setTimeout(resolve, 500);
      });
    });
  }
  const result = {
    mode,
    offerBytes: Buffer.byteLength(sdp),
    candidates: candidateCount,
    datagramsOut: received.datagrams,
    bytesOut: received.bytes,
    seconds: (Date.now() - started) / 1000,
    peerClosed: peer?.state === 'closed',
    refused,
  };
  for (const socket of sockets) socket.close();
  await close();
  return result;
}

function bindingRequest(username) {
  const name = Buffer.from(username);
  const padded = Math.ceil(name.length / 4) * 4;
  const message = Buffer.alloc(20 + 4 + padded);
  message.writeUInt16BE(0x0001, 0);
  message.writeUInt16BE(4 + padded, 2);
  message.writeUInt32BE(0x2112a442, 4);
  for (let index = 8; index < 20; index++) message[index] = Math.floor(Math.random() * 256);
  message.writeUInt16BE(0x0006, 20);
  message.writeUInt16BE(name.length, 22);
  name.copy(message, 24);
  return message;
}

async function unauthenticatedStun(mode) {
  const { factory, source, close } = await setup(mode);
  const sdp = offer([]);
  const { answerSdp } = await factory.createPeer(source, sdp);
  const serverUfrag = /a=ice-ufrag:(\S+)/.exec(answerSdp)[1];
  const port = Number(/a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host/.exec(answerSdp)[1]);
  const attacker = await bind(target);
  const received = { datagrams: 0, bytes: 0 };
  attacker.on('message', (data) => {
    received.datagrams++;
    received.bytes += data.length;
  });
  const request = bindingRequest(`${serverUfrag}:vwxy`);
  attacker.send(request, port, '127.0.0.1');
  await new Promise((resolve) => setTimeout(resolve, 5000));
  attacker.close();
  await close();
  return { mode, bytesIn: request.length, datagramsOut: received.datagrams, bytesOut: received.bytes };
}

const flood = [];
const stun = [];
for (const mode of ['socket-per-viewer', 'mux']) {
  flood.push(await candidateFlood(mode));
  stun.push(await unauthenticatedStun(mode));
}
console.log(`candidate flood: one offer, ${candidateCount} candidates at ${target}`);
console.table(flood);
console.log('one unauthenticated STUN binding request with a known USERNAME');
console.table(stun);
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, `${JSON.stringify({ date: new Date().toISOString(), flood, stun }, null, 2)}\n`);
