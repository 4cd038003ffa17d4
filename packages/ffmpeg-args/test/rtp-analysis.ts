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

/** Every SPS carried (single NAL unit packets and STAP-A units), as its NAL unit bytes. */
export function spsUnits(packets: readonly RtpPacket[]): Buffer[] {
  const units: Buffer[] = [];
  for (const { payload } of packets) {
    const type = payload[0]! & 0x1f;
    if (type === 7) units.push(payload);
    else if (type === 24) {
      for (let offset = 1; offset + 2 < payload.length; ) {
        const size = payload.readUInt16BE(offset);
        if ((payload[offset + 2]! & 0x1f) === 7) units.push(payload.subarray(offset + 2, offset + 2 + size));
        offset += 2 + size;
      }
    }
  }
  return units;
}

/** Reads Exp-Golomb coded fields (H.264 §9.1) from an RBSP. */
class BitReader {
  #bit = 0;
  constructor(readonly bytes: Buffer) {}
  bit(): number {
    const byte = this.bytes[this.#bit >> 3];
    if (byte === undefined) throw new RangeError('SPS ends early');
    const value = (byte >> (7 - (this.#bit & 7))) & 1;
    this.#bit++;
    return value;
  }
  bits(count: number): number {
    let value = 0;
    for (let i = 0; i < count; i++) value = value * 2 + this.bit();
    return value;
  }
  ue(): number {
    let zeros = 0;
    while (this.bit() === 0) zeros++;
    return 2 ** zeros - 1 + this.bits(zeros);
  }
  se(): number {
    const code = this.ue();
    return code % 2 === 1 ? (code + 1) / 2 : -code / 2;
  }
}

/** The picture size an SPS declares (H.264 §7.3.2.1.1, frame cropping applied), and its profile. */
export function spsSize(nal: Buffer): { profile: number; width: number; height: number } {
  // Emulation prevention (§7.4.1): 00 00 03 → 00 00.
  const rbsp: number[] = [];
  for (let i = 1; i < nal.length; i++) {
    if (i >= 3 && nal[i] === 3 && nal[i - 1] === 0 && nal[i - 2] === 0) continue;
    rbsp.push(nal[i]!);
  }
  const reader = new BitReader(Buffer.from(rbsp));
  const profile = reader.bits(8);
  reader.bits(16); // constraint flags, level_idc
  reader.ue(); // seq_parameter_set_id
  let chromaFormat = 1;
  if ([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135].includes(profile)) {
    chromaFormat = reader.ue();
    if (chromaFormat === 3) reader.bit();
    reader.ue(); // bit_depth_luma_minus8
    reader.ue(); // bit_depth_chroma_minus8
    reader.bit(); // qpprime_y_zero_transform_bypass_flag
    if (reader.bit()) {
      for (let list = 0; list < (chromaFormat === 3 ? 12 : 8); list++) {
        if (!reader.bit()) continue;
        let last = 8;
        let next = 8;
        for (let j = 0; j < (list < 6 ? 16 : 64) && next !== 0; j++) {
          next = (last + reader.se() + 256) % 256;
          last = next === 0 ? last : next;
        }
      }
    }
  }
  reader.ue(); // log2_max_frame_num_minus4
  const pocType = reader.ue();
  if (pocType === 0) reader.ue();
  else if (pocType === 1) {
    reader.bit();
    reader.se();
    reader.se();
    const cycle = reader.ue();
    for (let i = 0; i < cycle; i++) reader.se();
  }
  reader.ue(); // max_num_ref_frames
  reader.bit(); // gaps_in_frame_num_value_allowed_flag
  const widthMbs = reader.ue() + 1;
  const heightMapUnits = reader.ue() + 1;
  const frameMbsOnly = reader.bit();
  if (!frameMbsOnly) reader.bit();
  reader.bit(); // direct_8x8_inference_flag
  let crop = { left: 0, right: 0, top: 0, bottom: 0 };
  if (reader.bit()) crop = { left: reader.ue(), right: reader.ue(), top: reader.ue(), bottom: reader.ue() };
  const cropX = chromaFormat === 0 || chromaFormat === 3 ? 1 : 2;
  const cropY = (chromaFormat === 1 ? 2 : 1) * (2 - frameMbsOnly);
  return {
    profile,
    width: widthMbs * 16 - cropX * (crop.left + crop.right),
    height: (2 - frameMbsOnly) * heightMapUnits * 16 - cropY * (crop.top + crop.bottom),
  };
}

/**
 * The frame size of every VP8 keyframe that starts in a packet (RFC 7741 §4.2 payload descriptor,
 * then the RFC 6386 §9.1 frame header: a 3-byte tag, the start code 9d 01 2a, 14-bit width and height).
 */
export function vp8KeyframeSizes(packets: readonly RtpPacket[]): { width: number; height: number }[] {
  const sizes: { width: number; height: number }[] = [];
  for (const { payload } of packets) {
    const first = payload[0]!;
    let offset = 1;
    if (first & 0x80) {
      const extension = payload[1]!;
      offset = 2;
      if (extension & 0x80) offset += payload[offset]! & 0x80 ? 2 : 1;
      if (extension & 0x40) offset++;
      if (extension & 0x30) offset++;
    }
    const startOfPartition = (first & 0x10) !== 0 && (first & 0x07) === 0;
    const frame = payload.subarray(offset);
    if (!startOfPartition || frame.length < 10 || (frame[0]! & 1) !== 0) continue;
    if (frame[3] !== 0x9d || frame[4] !== 0x01 || frame[5] !== 0x2a) continue;
    sizes.push({ width: frame.readUInt16LE(6) & 0x3fff, height: frame.readUInt16LE(8) & 0x3fff });
  }
  return sizes;
}
