import { createSocket, type Socket } from 'node:dgram';

/** One RTP packet of the expected payload type (RFC 3550 §5.1). */
export interface RtpPacket {
  sequence: number;
  timestamp: number;
  payload: Buffer;
}

/** A loopback UDP socket that keeps every RTP packet of one payload type, in arrival order. */
export interface RtpCapture {
  port: number;
  packets: RtpPacket[];
  close(): void;
}

export function captureRtp(payloadType: number): Promise<RtpCapture> {
  return new Promise((resolve, reject) => {
    const socket: Socket = createSocket('udp4');
    const packets: RtpPacket[] = [];
    socket.on('message', (datagram: Buffer) => {
      const packet = parseRtp(datagram, payloadType);
      if (packet) packets.push(packet);
    });
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () =>
      resolve({ port: socket.address().port, packets, close: () => socket.close() }),
    );
  });
}

/** The packet's payload when it is RTP version 2 of the payload type (RTCP on the port is skipped). */
function parseRtp(datagram: Buffer, payloadType: number): RtpPacket | undefined {
  if (datagram.length < 12 || datagram[0]! >> 6 !== 2 || (datagram[1]! & 0x7f) !== payloadType)
    return undefined;
  let offset = 12 + (datagram[0]! & 0x0f) * 4;
  if (datagram[0]! & 0x10) offset += 4 + datagram.readUInt16BE(offset + 2) * 4;
  let end = datagram.length;
  if (datagram[0]! & 0x20) end -= datagram[end - 1]!;
  if (offset >= end) return undefined;
  return {
    sequence: datagram.readUInt16BE(2),
    timestamp: datagram.readUInt32BE(4),
    payload: datagram.subarray(offset, end),
  };
}

/** What the H.264 RTP stream (RFC 6184, packetization mode 1) carried. */
export interface H264Report {
  packets: number;
  /** Access units: runs of packets with one RTP timestamp. */
  frames: number;
  /** NAL unit types seen (STAP-A units unpacked, FU-A counted once at their start). */
  nalTypes: Set<number>;
  /** Access units with an IDR slice that arrived without a sequence gap. */
  idrFrames: number;
  /** …of which had an SPS (7) and a PPS (8) before the first IDR slice, in-band. */
  idrFramesWithParameterSets: number;
  /** Times an access unit's timestamp was below the one before it: frames sent out of order. */
  timestampsBack: number;
  /** `profile_idc` of every SPS (66 baseline, 77 main, 100 high). */
  spsProfiles: Set<number>;
  /** NAL headers with the forbidden bit, or packet types mode 1 does not use. */
  malformed: number;
}

export function analyseH264(packets: readonly RtpPacket[]): H264Report {
  const report: H264Report = {
    packets: packets.length,
    frames: 0,
    nalTypes: new Set(),
    idrFrames: 0,
    idrFramesWithParameterSets: 0,
    timestampsBack: 0,
    spsProfiles: new Set(),
    malformed: 0,
  };
  let index = 0;
  let previousTimestamp: number | undefined;
  let previousSequence: number | undefined;
  while (index < packets.length) {
    const timestamp = packets[index]!.timestamp;
    const units: number[] = [];
    let complete = true;
    for (; index < packets.length && packets[index]!.timestamp === timestamp; index++) {
      const packet = packets[index]!;
      if (previousSequence !== undefined && packet.sequence !== ((previousSequence + 1) & 0xffff))
        complete = false;
      previousSequence = packet.sequence;
      readUnits(packet.payload, units, report);
    }
    report.frames++;
    if (previousTimestamp !== undefined && ((timestamp - previousTimestamp) | 0) < 0) report.timestampsBack++;
    previousTimestamp = timestamp;
    for (const type of units) report.nalTypes.add(type);
    const idr = units.indexOf(5);
    if (idr >= 0 && complete) {
      report.idrFrames++;
      const before = units.slice(0, idr);
      if (before.includes(7) && before.includes(8)) report.idrFramesWithParameterSets++;
    }
  }
  return report;
}

function readUnits(payload: Buffer, units: number[], report: H264Report): void {
  const header = payload[0]!;
  const type = header & 0x1f;
  if (header & 0x80) report.malformed++;
  if (type >= 1 && type <= 23) {
    units.push(type);
    if (type === 7 && payload.length > 1) report.spsProfiles.add(payload[1]!);
  } else if (type === 24) {
    // STAP-A (RFC 6184 §5.7.1): 16-bit size, then the NAL unit, repeated.
    for (let offset = 1; offset + 2 < payload.length; ) {
      const size = payload.readUInt16BE(offset);
      const inner = payload[offset + 2]!;
      if (inner & 0x80) report.malformed++;
      units.push(inner & 0x1f);
      if ((inner & 0x1f) === 7 && size > 1) report.spsProfiles.add(payload[offset + 3]!);
      offset += 2 + size;
    }
  } else if (type === 28) {
    // FU-A (RFC 6184 §5.8): the FU header's start bit opens a unit of its type.
    if (payload[1]! & 0x80) units.push(payload[1]! & 0x1f);
  } else {
    report.malformed++;
  }
}

/** Opus RTP (RFC 7587): checks each packet's TOC byte against the timestamp step to the next. */
export interface OpusReport {
  packets: number;
  /** Consecutive packet pairs whose timestamp step was compared with the first one's duration. */
  checked: number;
  /**
   * …where the step was not the duration the TOC byte announces at 48 kHz, give or take 1 ms: input
   * timestamps of 1 ms (Matroska) or 90 kHz (MPEG-TS) precision make the step wobble by a few samples.
   */
  mismatched: number;
}

export function analyseOpus(packets: readonly RtpPacket[]): OpusReport {
  const report: OpusReport = { packets: packets.length, checked: 0, mismatched: 0 };
  for (let i = 1; i < packets.length; i++) {
    const previous = packets[i - 1]!;
    const packet = packets[i]!;
    if (packet.sequence !== ((previous.sequence + 1) & 0xffff)) continue;
    report.checked++;
    const samples = opusSamples(previous.payload);
    const step = (packet.timestamp - previous.timestamp) | 0;
    if (samples === undefined || Math.abs(step - samples) > 48) report.mismatched++;
  }
  return report;
}

/** Samples at 48 kHz in one Opus packet, from its TOC byte (RFC 6716 §3.1); undefined if invalid. */
function opusSamples(payload: Buffer): number | undefined {
  if (payload.length < 1) return undefined;
  const toc = payload[0]!;
  const config = toc >> 3;
  const frameMs =
    config < 12
      ? [10, 20, 40, 60][config % 4]!
      : config < 16
        ? [10, 20][config % 2]!
        : [2.5, 5, 10, 20][config % 4]!;
  const code = toc & 0x03;
  const frames = code === 0 ? 1 : code < 3 ? 2 : payload.length > 1 ? payload[1]! & 0x3f : 0;
  const samples = frames * frameMs * 48;
  return frames > 0 && samples <= 120 * 48 ? samples : undefined;
}
