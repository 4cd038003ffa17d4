import { avcCodecString, hevcCodecString, type TrackInfo } from './codec-strings.js';

interface Box {
  type: string;
  /** The box's content, header excluded. */
  body: Uint8Array;
}

/** The boxes in `bytes`, in order (ISO/IEC 14496-12 §4.2); a truncated last box is left out. */
function* boxes(bytes: Uint8Array): Generator<Box> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  while (offset + 8 <= bytes.length) {
    let size = view.getUint32(offset);
    const type = String.fromCharCode(...bytes.subarray(offset + 4, offset + 8));
    let header = 8;
    if (size === 1) {
      if (offset + 16 > bytes.length) return;
      size = Number(view.getBigUint64(offset + 8));
      header = 16;
    } else if (size === 0) size = bytes.length - offset;
    if (size < header || offset + size > bytes.length) return;
    yield { type, body: bytes.subarray(offset + header, offset + size) };
    offset += size;
  }
}

function child(bytes: Uint8Array, type: string): Uint8Array | undefined {
  for (const box of boxes(bytes)) if (box.type === type) return box.body;
  return undefined;
}

function path(bytes: Uint8Array, types: readonly string[]): Uint8Array | undefined {
  let current: Uint8Array | undefined = bytes;
  for (const type of types) {
    if (!current) return undefined;
    current = child(current, type);
  }
  return current;
}

/** Visual sample entries: 6 reserved + 2 data reference + 16 pre-defined/reserved, then width and height. */
const visualEntryHeader = 78;
/** Audio sample entries: 6 reserved + 2 data reference + 20 of version, channels, size, rate. */
const audioEntryHeader = 28;

function videoEntry(type: string, entry: Uint8Array): TrackInfo {
  const width = entry.length >= 28 ? (entry[24]! << 8) | entry[25]! : undefined;
  const height = entry.length >= 28 ? (entry[26]! << 8) | entry[27]! : undefined;
  const size = width && height ? { width, height } : {};
  const config = entry.subarray(Math.min(entry.length, visualEntryHeader));
  if (type === 'avc1' || type === 'avc3') {
    const avcC = child(config, 'avcC');
    if (avcC && avcC.length >= 4) {
      return { kind: 'video', codec: avcCodecString(avcC[1]!, avcC[2]!, avcC[3]!, type), ...size };
    }
  }
  if (type === 'hvc1' || type === 'hev1') {
    const hvcC = child(config, 'hvcC');
    if (hvcC && hvcC.length >= 13) {
      const compatibility = new DataView(hvcC.buffer, hvcC.byteOffset + 2, 4).getUint32(0);
      const codec = hevcCodecString(
        {
          profileSpace: hvcC[1]! >> 6,
          tier: (hvcC[1]! >> 5) & 1,
          profileIdc: hvcC[1]! & 0x1f,
          compatibility,
          constraints: [...hvcC.subarray(6, 12)],
          levelIdc: hvcC[12]!,
        },
        type,
      );
      return { kind: 'video', codec, ...size };
    }
  }
  return { kind: 'video', ...size };
}

/** An MPEG-4 descriptor's tag and body (ISO/IEC 14496-1 §8.3.3: the size in 7-bit groups). */
function descriptor(bytes: Uint8Array, offset: number): { tag: number; body: Uint8Array } | undefined {
  const tag = bytes[offset];
  if (tag === undefined) return undefined;
  let size = 0;
  let at = offset + 1;
  for (let count = 0; count < 4; count++) {
    const byte = bytes[at++];
    if (byte === undefined) return undefined;
    size = size * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) break;
  }
  return { tag, body: bytes.subarray(at, at + size) };
}

/** `mp4a.40.2` from an `esds`: the object type, and for AAC (0x40) the audio object type. */
function esdsCodec(esds: Uint8Array): string | undefined {
  const es = descriptor(esds, 4);
  if (es?.tag !== 0x03 || es.body.length < 3) return undefined;
  const flags = es.body[2]!;
  let offset = 3 + (flags & 0x80 ? 2 : 0);
  if (flags & 0x40) offset += 1 + (es.body[offset] ?? 0);
  if (flags & 0x20) offset += 2;
  const config = descriptor(es.body, offset);
  if (config?.tag !== 0x04 || config.body.length < 13) return undefined;
  const objectType = config.body[0]!;
  if (objectType !== 0x40) return `mp4a.${objectType.toString(16)}`;
  const specific = descriptor(config.body, 13);
  if (specific?.tag !== 0x05 || specific.body.length < 1) return 'mp4a.40.2';
  let audioObjectType = specific.body[0]! >> 3;
  if (audioObjectType === 31 && specific.body.length >= 2) {
    audioObjectType = 32 + (((specific.body[0]! & 7) << 3) | (specific.body[1]! >> 5));
  }
  return `mp4a.40.${audioObjectType}`;
}

function audioEntry(type: string, entry: Uint8Array): TrackInfo {
  if (type === 'Opus') return { kind: 'audio', codec: 'opus' };
  if (type === 'ac-3' || type === 'ec-3') return { kind: 'audio', codec: type };
  if (type === 'mp4a') {
    const esds = child(entry.subarray(Math.min(entry.length, audioEntryHeader)), 'esds');
    const codec = esds ? esdsCodec(esds) : undefined;
    return codec ? { kind: 'audio', codec } : { kind: 'audio' };
  }
  return { kind: 'audio' };
}

/**
 * The tracks of an fMP4 initialization section (`moov`): per track its handler (`vide`/`soun`) and
 * the first sample entry of its `stsd`, read for the codec string (`avcC`, `hvcC`, `esds`) and the
 * picture size. Tracks of other handlers (subtitles, metadata) are left out. Undefined without a
 * `moov`.
 */
export function mp4Tracks(bytes: Uint8Array): TrackInfo[] | undefined {
  const moov = child(bytes, 'moov');
  if (!moov) return undefined;
  const tracks: TrackInfo[] = [];
  for (const trak of boxes(moov)) {
    if (trak.type !== 'trak') continue;
    const hdlr = path(trak.body, ['mdia', 'hdlr']);
    const handler = hdlr && hdlr.length >= 12 ? String.fromCharCode(...hdlr.subarray(8, 12)) : '';
    if (handler !== 'vide' && handler !== 'soun') continue;
    const stsd = path(trak.body, ['mdia', 'minf', 'stbl', 'stsd']);
    const entry = stsd && stsd.length > 8 ? boxes(stsd.subarray(8)).next().value : undefined;
    if (!entry) {
      tracks.push({ kind: handler === 'vide' ? 'video' : 'audio' });
      continue;
    }
    tracks.push(handler === 'vide' ? videoEntry(entry.type, entry.body) : audioEntry(entry.type, entry.body));
  }
  return tracks;
}
