import { BitReader } from './bit-reader.js';

/** What a segment or init section tells about one track: its RFC 6381 codec string and picture size. */
export interface TrackInfo {
  kind: 'video' | 'audio';
  /** `avc1.64001f`, `hvc1.1.6.L93.B0`, `mp4a.40.2`…; absent when the track's codec has no string here. */
  codec?: string;
  width?: number;
  height?: number;
}

const hex2 = (value: number) => value.toString(16).padStart(2, '0');

/** `avc1.PPCCLL` (RFC 6381 §3.3): profile_idc, the constraint flags byte, level_idc. */
export function avcCodecString(profile: number, constraints: number, level: number, entry = 'avc1'): string {
  return `${entry}.${hex2(profile)}${hex2(constraints)}${hex2(level)}`;
}

/** H.265's general profile, tier and level, as its SPS and `hvcC` both carry them. */
export interface HevcProfileTierLevel {
  profileSpace: number;
  tier: number;
  profileIdc: number;
  /** general_profile_compatibility_flag[0..31], bit 31 first. */
  compatibility: number;
  /** The six bytes of progressive/interlaced/… constraint flags. */
  constraints: readonly number[];
  levelIdc: number;
}

/**
 * `hvc1.1.6.L93.B0` (ISO/IEC 14496-15 Annex E.3): profile space letter and profile, the
 * compatibility flags bit-reversed in hex, tier letter and level, the constraint bytes without
 * their trailing zero bytes (hex in capitals, as the Annex's and Apple's examples write them).
 */
export function hevcCodecString(ptl: HevcProfileTierLevel, entry = 'hvc1'): string {
  const space = ['', 'A', 'B', 'C'][ptl.profileSpace] ?? '';
  let reversed = 0;
  for (let bit = 0; bit < 32; bit++) reversed = reversed * 2 + ((ptl.compatibility >>> bit) & 1);
  const constraints = [...ptl.constraints];
  while (constraints.length > 0 && constraints.at(-1) === 0) constraints.pop();
  return [
    entry,
    `${space}${ptl.profileIdc}`,
    reversed.toString(16).toUpperCase(),
    `${ptl.tier ? 'H' : 'L'}${ptl.levelIdc}`,
    ...constraints.map((byte) => byte.toString(16).toUpperCase()),
  ].join('.');
}

/** H.264 profiles whose SPS carries chroma format and bit depth (H.264 §7.3.2.1.1). */
const highProfiles = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function skipScalingList(reader: BitReader, size: number): void {
  let last = 8;
  let next = 8;
  for (let index = 0; index < size; index++) {
    if (next !== 0) next = (last + reader.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/**
 * An H.264 SPS NAL unit (header byte first): its codec string and the cropped picture size
 * (H.264 §7.3.2.1.1, §7.4.2.1.1). Undefined when it is not an SPS or is cut short.
 */
export function h264FromSps(nal: Uint8Array): TrackInfo | undefined {
  if (nal.length < 4 || (nal[0]! & 0x1f) !== 7) return undefined;
  const codec = avcCodecString(nal[1]!, nal[2]!, nal[3]!);
  try {
    const reader = BitReader.fromNal(nal.subarray(4));
    reader.ue(); // seq_parameter_set_id
    let chroma = 1;
    if (highProfiles.has(nal[1]!)) {
      chroma = reader.ue();
      if (chroma === 3) reader.skip(1);
      reader.ue(); // bit_depth_luma_minus8
      reader.ue(); // bit_depth_chroma_minus8
      reader.skip(1);
      if (reader.flag()) {
        for (let list = 0; list < (chroma === 3 ? 12 : 8); list++) {
          if (reader.flag()) skipScalingList(reader, list < 6 ? 16 : 64);
        }
      }
    }
    reader.ue(); // log2_max_frame_num_minus4
    const pocType = reader.ue();
    if (pocType === 0) reader.ue();
    else if (pocType === 1) {
      reader.skip(1);
      reader.se();
      reader.se();
      const cycle = reader.ue();
      for (let index = 0; index < cycle; index++) reader.se();
    }
    reader.ue(); // max_num_ref_frames
    reader.skip(1);
    const widthMbs = reader.ue() + 1;
    const heightMapUnits = reader.ue() + 1;
    const frameMbsOnly = reader.bits(1);
    if (!frameMbsOnly) reader.skip(1);
    reader.skip(1);
    let [left, right, top, bottom] = [0, 0, 0, 0];
    if (reader.flag()) [left, right, top, bottom] = [reader.ue(), reader.ue(), reader.ue(), reader.ue()];
    const cropX = chroma === 0 || chroma === 3 ? 1 : 2;
    const cropY = (chroma === 1 ? 2 : 1) * (2 - frameMbsOnly);
    return {
      kind: 'video',
      codec,
      width: widthMbs * 16 - cropX * (left + right),
      height: (2 - frameMbsOnly) * heightMapUnits * 16 - cropY * (top + bottom),
    };
  } catch (error) {
    if (error instanceof RangeError) return { kind: 'video', codec };
    throw error;
  }
}

/** H.265 profile_tier_level()'s general part (H.265 §7.3.3), then the sub-layers' parts skipped. */
function readProfileTierLevel(reader: BitReader, maxSubLayersMinus1: number): HevcProfileTierLevel {
  const profileSpace = reader.bits(2);
  const tier = reader.bits(1);
  const profileIdc = reader.bits(5);
  const compatibility = reader.bits(32);
  const constraints = Array.from({ length: 6 }, () => reader.bits(8));
  const levelIdc = reader.bits(8);
  const present: [boolean, boolean][] = [];
  for (let layer = 0; layer < maxSubLayersMinus1; layer++) present.push([reader.flag(), reader.flag()]);
  if (maxSubLayersMinus1 > 0) reader.skip(2 * (8 - maxSubLayersMinus1));
  for (const [profile, level] of present) {
    if (profile) reader.skip(88);
    if (level) reader.skip(8);
  }
  return { profileSpace, tier, profileIdc, compatibility, constraints, levelIdc };
}

/**
 * An H.265 SPS NAL unit (two header bytes first): its codec string and the conformance-cropped
 * picture size (H.265 §7.3.2.2). Undefined when it is not an SPS or is cut short.
 */
export function hevcFromSps(nal: Uint8Array): TrackInfo | undefined {
  if (nal.length < 3 || ((nal[0]! >> 1) & 0x3f) !== 33) return undefined;
  try {
    const reader = BitReader.fromNal(nal.subarray(2));
    reader.skip(4); // sps_video_parameter_set_id
    const maxSubLayersMinus1 = reader.bits(3);
    reader.skip(1);
    const ptl = readProfileTierLevel(reader, maxSubLayersMinus1);
    const codec = hevcCodecString(ptl);
    try {
      reader.ue(); // sps_seq_parameter_set_id
      const chroma = reader.ue();
      if (chroma === 3) reader.skip(1);
      let width = reader.ue();
      let height = reader.ue();
      if (reader.flag()) {
        const [left, right, top, bottom] = [reader.ue(), reader.ue(), reader.ue(), reader.ue()];
        width -= (chroma === 1 || chroma === 2 ? 2 : 1) * (left + right);
        height -= (chroma === 1 ? 2 : 1) * (top + bottom);
      }
      return { kind: 'video', codec, width, height };
    } catch (error) {
      if (error instanceof RangeError) return { kind: 'video', codec };
      throw error;
    }
  } catch (error) {
    if (error instanceof RangeError) return undefined;
    throw error;
  }
}

/**
 * An ADTS header (ISO/IEC 14496-3 §1.A.2): AAC's audio object type is its profile plus one, so
 * `mp4a.40.2` for AAC-LC. HE-AAC in ADTS signals LC (its SBR is implicit), which is what players
 * accept for it too.
 */
export function aacFromAdts(bytes: Uint8Array, offset = 0): TrackInfo | undefined {
  if (bytes.length < offset + 7) return undefined;
  if (bytes[offset] !== 0xff || (bytes[offset + 1]! & 0xf6) !== 0xf0) return undefined;
  return { kind: 'audio', codec: `mp4a.40.${(bytes[offset + 2]! >> 6) + 1}` };
}

/**
 * An MPEG audio frame header (ISO/IEC 11172-3 §2.4.1.3): layer III is MP3, `mp4a.40.34` as Apple's
 * HLS authoring spec names it; layers I and II have no codec string players know.
 */
export function mpegAudioFromHeader(bytes: Uint8Array, offset = 0): TrackInfo | undefined {
  if (bytes.length < offset + 4 || bytes[offset] !== 0xff || (bytes[offset + 1]! & 0xe0) !== 0xe0) {
    return undefined;
  }
  const layer = (bytes[offset + 1]! >> 1) & 3;
  return layer === 1 ? { kind: 'audio', codec: 'mp4a.40.34' } : { kind: 'audio' };
}
