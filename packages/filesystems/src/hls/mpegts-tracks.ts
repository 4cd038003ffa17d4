import {
  aacFromAdts,
  h264FromSps,
  hevcFromSps,
  mpegAudioFromHeader,
  type TrackInfo,
} from './codec-strings.js';

const packetSize = 188;
const syncByte = 0x47;
/** How much of one elementary stream is read looking for its parameters (an SPS comes with the first IDR). */
const maxStreamBytes = 512 * 1024;

/** One elementary stream of the PMT and what its PES packets told so far. */
interface Stream {
  pid: number;
  streamType: number;
  /** Registration / DVB descriptor tags found in its ES_info: `Opus`, `AC-3`… */
  descriptors: Set<string>;
  /** The TS payloads of the PES packet being collected. */
  pes: Uint8Array[];
  bytes: number;
  info: TrackInfo | undefined;
  done: boolean;
}

/** ISO/IEC 13818-1 stream types (Table 2-34, and the ones registered since): the ones read here. */
const parsedTypes = new Set([0x1b, 0x24, 0x03, 0x04, 0x0f]);
/** Video the segment may carry that has no codec string here (MPEG-1/2, MPEG-4 Part 2, VC-1…). */
const otherVideoTypes = new Set([0x01, 0x02, 0x10, 0xea]);
const audioTypes = new Set([0x03, 0x04, 0x0f, 0x11, 0x81, 0x87]);

function firstSync(bytes: Uint8Array): number {
  for (let offset = 0; offset < Math.min(packetSize, bytes.length); offset++) {
    if (
      bytes[offset] === syncByte &&
      (offset + packetSize >= bytes.length || bytes[offset + packetSize] === syncByte)
    ) {
      return offset;
    }
  }
  return -1;
}

/** A PSI section's bytes (after the pointer field), bounded by its section_length. */
function section(payload: Uint8Array): Uint8Array | undefined {
  const pointer = payload[0];
  if (pointer === undefined) return undefined;
  const start = 1 + pointer;
  if (payload.length < start + 3) return undefined;
  const length = ((payload[start + 1]! & 0x0f) << 8) | payload[start + 2]!;
  return payload.subarray(start, Math.min(payload.length, start + 3 + length));
}

function parsePat(payload: Uint8Array): number | undefined {
  const table = section(payload);
  if (table?.[0] !== 0x00) return undefined;
  // Programs from byte 8 to the CRC; program 0 is the network PID.
  for (let offset = 8; offset + 4 <= table.length - 4; offset += 4) {
    const program = (table[offset]! << 8) | table[offset + 1]!;
    if (program !== 0) return ((table[offset + 2]! & 0x1f) << 8) | table[offset + 3]!;
  }
  return undefined;
}

function parsePmt(payload: Uint8Array): Stream[] | undefined {
  const table = section(payload);
  if (table?.[0] !== 0x02 || table.length < 12) return undefined;
  const programInfoLength = ((table[10]! & 0x0f) << 8) | table[11]!;
  const streams: Stream[] = [];
  let offset = 12 + programInfoLength;
  while (offset + 5 <= table.length - 4) {
    const streamType = table[offset]!;
    const pid = ((table[offset + 1]! & 0x1f) << 8) | table[offset + 2]!;
    const infoLength = ((table[offset + 3]! & 0x0f) << 8) | table[offset + 4]!;
    const descriptors = new Set<string>();
    for (let at = offset + 5; at + 2 <= offset + 5 + infoLength && at + 2 <= table.length; ) {
      const tag = table[at]!;
      const length = table[at + 1]!;
      if (tag === 0x05 && length >= 4) {
        descriptors.add(String.fromCharCode(...table.subarray(at + 2, at + 6)));
      } else if (tag === 0x6a) descriptors.add('AC-3');
      else if (tag === 0x7a) descriptors.add('EAC3');
      at += 2 + length;
    }
    streams.push({ pid, streamType, descriptors, pes: [], bytes: 0, info: undefined, done: false });
    offset += 5 + infoLength;
  }
  return streams;
}

/** NAL units of an Annex B byte stream (start codes `00 00 01` / `00 00 00 01`). */
function* nalUnits(bytes: Uint8Array): Generator<Uint8Array> {
  let start = -1;
  for (let index = 0; index + 2 < bytes.length; index++) {
    if (bytes[index] !== 0 || bytes[index + 1] !== 0 || bytes[index + 2] !== 1) continue;
    if (start >= 0) {
      let end = index;
      while (end > start && bytes[end - 1] === 0) end--;
      yield bytes.subarray(start, end);
    }
    start = index + 3;
    index += 2;
  }
  if (start >= 0 && start < bytes.length) yield bytes.subarray(start);
}

/** The elementary stream bytes of one PES packet (its header cut off). */
function elementaryBytes(pes: Uint8Array[]): Uint8Array {
  const packet = Buffer.concat(pes);
  if (packet.length < 9 || packet[0] !== 0 || packet[1] !== 0 || packet[2] !== 1) return new Uint8Array(0);
  return packet.subarray(9 + packet[8]!);
}

/** What one PES packet's elementary stream bytes say of its stream. */
function judge(streamType: number, bytes: Uint8Array): TrackInfo | undefined {
  switch (streamType) {
    case 0x1b:
      for (const nal of nalUnits(bytes)) {
        const info = h264FromSps(nal);
        if (info) return info;
      }
      return undefined;
    case 0x24:
      for (const nal of nalUnits(bytes)) {
        const info = hevcFromSps(nal);
        if (info) return info;
      }
      return undefined;
    case 0x0f:
      for (let offset = 0; offset + 7 <= bytes.length; offset++) {
        const info = aacFromAdts(bytes, offset);
        if (info) return info;
      }
      return undefined;
    case 0x03:
    case 0x04:
      for (let offset = 0; offset + 4 <= bytes.length; offset++) {
        const info = mpegAudioFromHeader(bytes, offset);
        if (info) return info;
      }
      return undefined;
    default:
      return undefined;
  }
}

/** A private-data stream (0x06) that DVB or a registration descriptor names. */
function privateStream(stream: Stream): TrackInfo | undefined {
  if (stream.descriptors.has('Opus')) return { kind: 'audio', codec: 'opus' };
  if (stream.descriptors.has('AC-3')) return { kind: 'audio', codec: 'ac-3' };
  if (stream.descriptors.has('EAC3')) return { kind: 'audio', codec: 'ec-3' };
  return undefined;
}

/**
 * The tracks of an MPEG-TS segment (ISO/IEC 13818-1): the PAT leads to the PMT, whose streams are
 * read until each video stream's SPS (H.264, H.265) and each audio stream's first frame header
 * (AAC, MP3, AC-3…) are found. Streams of other types count as tracks without a codec string, so a
 * caller knows the list is not complete. Undefined when the bytes are not MPEG-TS or hold no PMT.
 */
export function mpegTsTracks(bytes: Uint8Array): TrackInfo[] | undefined {
  let offset = firstSync(bytes);
  if (offset < 0) return undefined;
  let pmtPid: number | undefined;
  let streams: Stream[] | undefined;
  for (; offset + packetSize <= bytes.length; offset += packetSize) {
    if (bytes[offset] !== syncByte) return streams && finish(streams);
    const unitStart = (bytes[offset + 1]! & 0x40) !== 0;
    const pid = ((bytes[offset + 1]! & 0x1f) << 8) | bytes[offset + 2]!;
    const control = (bytes[offset + 3]! >> 4) & 3;
    if ((control & 1) === 0) continue;
    const start = offset + 4 + (control === 3 ? 1 + bytes[offset + 4]! : 0);
    if (start >= offset + packetSize) continue;
    const payload = bytes.subarray(start, offset + packetSize);
    if (pid === 0 && unitStart && pmtPid === undefined) pmtPid = parsePat(payload);
    else if (pid === pmtPid && unitStart && !streams) streams = parsePmt(payload);
    else if (streams) {
      const stream = streams.find((candidate) => candidate.pid === pid);
      if (!stream || stream.done || !parsedTypes.has(stream.streamType)) continue;
      if (unitStart) {
        // The previous PES packet is complete: judge it before starting the next one.
        if (stream.pes.length > 0) stream.info = judge(stream.streamType, elementaryBytes(stream.pes));
        stream.pes = [];
      } else if (stream.pes.length === 0) continue;
      stream.pes.push(payload);
      stream.bytes += payload.length;
      if (stream.info || stream.bytes > maxStreamBytes) stream.done = true;
      if (streams.every((candidate) => candidate.done || !parsedTypes.has(candidate.streamType))) break;
    }
  }
  return streams && finish(streams);
}

function finish(streams: Stream[]): TrackInfo[] {
  return streams.flatMap((stream): TrackInfo[] => {
    const { streamType } = stream;
    if (streamType === 0x06) {
      const known = privateStream(stream);
      return known ? [known] : [];
    }
    if (streamType === 0x81) return [{ kind: 'audio', codec: 'ac-3' }];
    if (streamType === 0x87) return [{ kind: 'audio', codec: 'ec-3' }];
    if (!parsedTypes.has(streamType) && !otherVideoTypes.has(streamType) && !audioTypes.has(streamType)) {
      return [];
    }
    const info =
      stream.info ?? (stream.pes.length > 0 ? judge(streamType, elementaryBytes(stream.pes)) : undefined);
    return [info ?? { kind: audioTypes.has(streamType) ? 'audio' : 'video' }];
  });
}
