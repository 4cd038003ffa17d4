// Forwarding latency and delivery seen from outside the server: tcpdump on the loopback interface
// timestamps every RTP packet entering the server and every SRTP packet leaving it (kernel time,
// ns). SRTP leaves the RTP header in the clear (RFC 3711 §3.1), so each viewer's stream can be
// matched to the input by sequence number: a forwarding server keeps a constant sequence offset
// per viewer. This is how Janus and Dragon are measured alike, with no hook in either. A UDP GSO
// datagram (several RTP packets the kernel segments on delivery; loopback captures it whole) is
// counted as the packets it carries, at the time it left.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function captureAvailable() {
  return spawnSync('tcpdump', ['--version']).status === 0;
}

/** Installs tcpdump when missing and we may (root, apt); returns whether it is there. */
export function ensureTcpdump({ install }) {
  if (!captureAvailable() && install && process.getuid?.() === 0) {
    console.log('tcpdump is not installed: apt-get install -y tcpdump');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    spawnSync('apt-get', ['install', '-y', '-qq', 'tcpdump'], { stdio: 'inherit', env });
  }
  if (!captureAvailable())
    console.log('tcpdump is not available: no forwarding latency or server-side delivery');
  return captureAvailable();
}

/**
 * Captures the first 96 bytes (enough for IP, UDP, the RTP header and the first NAL byte) of
 * packets into `inPorts` and out of `outPorts`, on `core`. `stop()` resolves with the parsed packets.
 */
export async function startCapture({ core, inPorts, outPorts }) {
  const dir = mkdtempSync(join(tmpdir(), 'dragon-capture-'));
  const file = join(dir, 'lo.pcap');
  const clauses = [
    ...inPorts.map((port) => `dst port ${port}`),
    ...outPorts.map((port) => `src port ${port}`),
  ];
  const tcpdump = spawn(
    'taskset',
    [
      '-c',
      String(core),
      'tcpdump',
      '-i',
      'lo',
      // On loopback the kernel hands a capture every packet twice, leaving and arriving, and libpcap
      // keeps the arriving copy. Asking for that one only (PACKET_IGNORE_OUTGOING) captures the same
      // packets with the same timestamps, without a clone of every datagram in the sender's system
      // call: measured at 9 % of the data-plane thread's time, charged to the server measured.
      '-Q',
      'in',
      '-n',
      '-s',
      '96',
      '-B',
      '32768',
      '--time-stamp-precision=nano',
      '-w',
      file,
      `udp and (${clauses.join(' or ')})`,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  await new Promise((resolve, reject) => {
    tcpdump.stderr.on('data', (chunk) => {
      stderr += chunk.toString();
      if (/listening on/.test(stderr)) resolve();
    });
    tcpdump.once('exit', (code) => reject(new Error(`tcpdump exited with ${code}: ${stderr}`)));
  });
  return {
    async stop() {
      const exited = new Promise((resolve) => tcpdump.once('exit', resolve));
      tcpdump.kill('SIGINT');
      await exited;
      const packets = parsePcap(readFileSync(file));
      rmSync(dir, { recursive: true, force: true });
      const dropped = /(\d+) packets? dropped by kernel/.exec(stderr);
      return { packets, droppedByKernel: dropped ? Number(dropped[1]) : 0 };
    },
  };
}

/** UDP packets of a pcap file (Ethernet, Linux cooked v1/v2 or raw IP link types; IPv4 only). */
export function parsePcap(buffer) {
  const magic = buffer.readUInt32LE(0);
  const little = magic === 0xa1b23c4d || magic === 0xa1b2c3d4;
  const u32 = (offset) => (little ? buffer.readUInt32LE(offset) : buffer.readUInt32BE(offset));
  const nanos = magic === 0xa1b23c4d || magic === 0x4d3cb2a1;
  const linkType = u32(20);
  const linkHeader = { 1: 14, 113: 16, 276: 20, 101: 0, 228: 0 }[linkType];
  if (linkHeader === undefined) throw new Error(`unsupported pcap link type ${linkType}`);
  const packets = [];
  for (let offset = 24; offset + 16 <= buffer.length; ) {
    const seconds = u32(offset);
    const fraction = u32(offset + 4);
    const captured = u32(offset + 8);
    const data = offset + 16;
    offset = data + captured;
    const ip = data + linkHeader;
    if (buffer[ip] >> 4 !== 4 || buffer[ip + 9] !== 17) continue;
    const udp = ip + (buffer[ip] & 0x0f) * 4;
    const payload = udp + 8;
    if (payload + 12 > offset) continue;
    packets.push({
      // ms since the epoch, as Date.now(); the fraction keeps µs resolution.
      t: seconds * 1000 + (nanos ? fraction / 1e6 : fraction / 1e3),
      src: buffer.readUInt16BE(udp),
      dst: buffer.readUInt16BE(udp + 2),
      length: buffer.readUInt16BE(udp + 4) - 8,
      b0: buffer[payload],
      b1: buffer[payload + 1],
      seq: buffer.readUInt16BE(payload + 2),
      ts: buffer.readUInt32BE(payload + 4),
      ssrc: buffer.readUInt32BE(payload + 8),
      // First payload byte of an RTP packet without CSRCs or extension: the NAL unit header.
      nal: payload + 12 < offset ? buffer[payload + 12] & 0x1f : -1,
    });
  }
  return packets;
}

/**
 * Longest forwarding delay a packet is followed for. Generous, so a server starved of CPU shows as
 * a long latency rather than as lost packets; a sequence number repeats only after 65,536 packets.
 */
const maxLatencyMs = 5000;

const isRtp = (packet) => (packet.b0 & 0xc0) === 0x80 && (packet.b1 < 192 || packet.b1 > 223);
const percentile = (sorted, p) =>
  sorted.length === 0
    ? undefined
    : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/**
 * Matches each outgoing stream to the incoming video by its sequence offset. `window` ([from, to]
 * in ms since the epoch) is where inputs count; its start is trimmed by `edgeMs` so packets in
 * flight when it opened do not count, and the capture is expected to run on past its end so every
 * input in it can be followed out.
 */
export function analyse({ packets, videoInPort, inPorts, serverPorts, window, edgeMs = 300 }) {
  const [from, to] = [window[0] + edgeMs, window[1]];
  const rtpIn = packets.filter((packet) => inPorts.includes(packet.dst) && isRtp(packet));
  const videoIn = rtpIn.filter((packet) => packet.dst === videoInPort);
  const counted = videoIn.filter((packet) => packet.t >= from && packet.t <= to);
  const bySeq = new Map();
  for (const packet of videoIn) bySeq.set(packet.seq, [...(bySeq.get(packet.seq) ?? []), packet]);
  // Packets carrying nothing but an access unit delimiter (9), SEI (6) or filler (12).
  const auxiliary = counted.filter(
    (packet) => packet.nal === 9 || packet.nal === 6 || packet.nal === 12,
  ).length;

  const streams = new Map();
  for (const packet of packets) {
    if (!serverPorts.has(packet.src) || serverPorts.has(packet.dst) || !isRtp(packet)) continue;
    const list = streams.get(packet.ssrc) ?? [];
    list.push(packet);
    streams.set(packet.ssrc, list);
  }
  const viewers = [];
  const latencies = [];
  // Per input packet: when its first and its last copy left (the spread is the fan-out's own time).
  const firstCopy = new Map();
  const lastCopy = new Map();
  for (const [ssrc, captured] of streams) {
    const offset = sequenceOffset(captured, videoIn);
    if (offset === undefined) continue; // audio, or not a forwarded copy of the video
    const out = segmented(captured, offset, bySeq);
    const seen = new Set();
    let matched = 0;
    for (const packet of out) {
      const inSeq = (packet.seq - offset) & 0xffff;
      if (seen.has(inSeq)) continue; // a retransmission
      const source = (bySeq.get(inSeq) ?? []).find(
        (candidate) => candidate.t <= packet.t && packet.t - candidate.t < maxLatencyMs,
      );
      if (!source) continue;
      seen.add(inSeq);
      if (source.t < from || source.t > to) continue;
      matched++;
      const latency = packet.t - source.t;
      latencies.push(latency);
      firstCopy.set(source, Math.min(firstCopy.get(source) ?? Infinity, latency));
      lastCopy.set(source, Math.max(lastCopy.get(source) ?? 0, latency));
    }
    viewers.push({
      ssrc,
      forwarded: counted.length ? matched / counted.length : 0,
      /** Sequence numbers of this stream's packets that left the server between `from` and `to`. */
      sentBetween: (from, to) =>
        out.filter((packet) => packet.t >= from && packet.t <= to).map((packet) => packet.seq),
    });
  }
  const firsts = [...firstCopy.values()].sort((a, b) => a - b);
  const spreads = [...firstCopy.keys()]
    .map((source) => lastCopy.get(source) - firstCopy.get(source))
    .sort((a, b) => a - b);
  latencies.sort((a, b) => a - b);
  const seconds = (to - from) / 1000;
  return {
    window: [from, to],
    packetsInPerSecond: rtpIn.filter((packet) => packet.t >= from && packet.t <= to).length / seconds,
    videoPacketsInPerSecond: counted.length / seconds,
    auxiliaryShare: counted.length ? auxiliary / counted.length : 0,
    viewers,
    forwardingMs: {
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      max: latencies.at(-1),
      samples: latencies.length,
    },
    /** From a packet's arrival to its first copy leaving: the wait behind the packets before it. */
    firstCopyMs: { p50: percentile(firsts, 50), p99: percentile(firsts, 99) },
    /** From a packet's first copy to its last: the fan-out of one packet (of a batch, with GSO). */
    spreadMs: { p50: percentile(spreads, 50), p99: percentile(spreads, 99) },
  };
}

/** Bytes a forwarder may add to a packet: the SRTP tag (≤ 16) and header extensions. */
const maxOverhead = 64;

/**
 * A stream's packets with each GSO datagram replaced by the packets it carries. The datagram's
 * first RTP header is all a 96-byte capture shows, so its segments are told from the input: they
 * are the inputs that follow the first one, each with the stream's constant per-packet overhead,
 * until their sizes add up to the datagram's.
 */
function segmented(out, offset, bySeq) {
  const input = (seq, t) =>
    (bySeq.get(seq & 0xffff) ?? []).find((candidate) => candidate.t <= t && t - candidate.t < maxLatencyMs);
  const differences = [];
  for (const packet of out) {
    const source = input(packet.seq - offset, packet.t);
    const difference = source ? packet.length - source.length : -1;
    if (difference >= 0 && difference <= maxOverhead) differences.push(difference);
  }
  differences.sort((a, b) => a - b);
  const overhead = differences[Math.floor(differences.length / 2)];
  if (overhead === undefined) return out;
  const expanded = [];
  for (const packet of out) {
    expanded.push(packet);
    const first = input(packet.seq - offset, packet.t);
    if (!first || packet.length - first.length <= maxOverhead) continue;
    let remaining = packet.length - first.length - overhead;
    const segments = [];
    for (let index = 1; remaining > 0; index++) {
      const next = input(packet.seq - offset + index, packet.t);
      if (!next) break;
      remaining -= next.length + overhead;
      segments.push({ ...packet, seq: (packet.seq + index) & 0xffff, length: next.length + overhead });
    }
    if (remaining === 0) {
      expanded[expanded.length - 1] = { ...packet, length: first.length + overhead };
      expanded.push(...segments);
    }
  }
  return expanded;
}

/**
 * The sequence offset of a forwarded copy of the input. Every input sent shortly before an outgoing
 * packet proposes (its sequence offset, its RTP timestamp offset); only the true source gives the
 * same pair for every packet, because a forwarder shifts both by a constant per viewer while
 * neighbouring packets differ in one or the other (sizes would not do: a GSO datagram carries
 * several packets).
 */
function sequenceOffset(out, videoIn) {
  const votes = new Map();
  const step = Math.max(1, Math.floor(out.length / 200));
  const sample = out.filter((_, index) => index % step === 0).slice(0, 200);
  let start = 0;
  for (const packet of sample) {
    while (start < videoIn.length && videoIn[start].t < packet.t - maxLatencyMs) start++;
    for (let index = start; index < videoIn.length && videoIn[index].t <= packet.t; index++) {
      const key = `${(packet.seq - videoIn[index].seq) & 0xffff}/${(packet.ts - videoIn[index].ts) >>> 0}`;
      votes.set(key, (votes.get(key) ?? 0) + 1);
    }
  }
  let best;
  let bestVotes = 0;
  for (const [key, count] of votes) {
    if (count > bestVotes) [best, bestVotes] = [key, count];
  }
  return bestVotes >= sample.length * 0.3 && sample.length >= 10 ? Number(best.split('/')[0]) : undefined;
}
