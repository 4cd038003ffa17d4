import { posix } from 'node:path';
import type { FileContent, Filesystem } from '../filesystem.js';
import type { TrackInfo } from './codec-strings.js';
import {
  type AttributeList,
  attribute,
  parseAttributes,
  parseMediaPlaylist,
  parsePlaylistLines,
  renderAttributes,
  setAttribute,
  unquote,
} from './m3u8.js';
import { mp4Tracks } from './mp4-tracks.js';
import { mpegTsTracks } from './mpegts-tracks.js';

/** A variant playlist a master playlist should list, as the process writing them says. */
export interface VariantRef {
  /** The variant playlist's path in the master's filesystem (`/cam_output_0.m3u8`). */
  path: string;
  /** How the master names it: relative to the master's directory, as FFmpeg writes it. */
  uri: string;
  /** An audio-only variant of an alternative-audio group: a rendition (`#EXT-X-MEDIA`), not a variant. */
  audioRendition?: boolean;
}

export interface MasterPlaylistsOptions {
  /**
   * The variants of the master playlist at `path`, when Dragon knows who writes it (a process's
   * HLS output with `-master_pl_name`); undefined otherwise. Variants FFmpeg listed itself are
   * completed either way.
   */
  variantsOf?: (path: string) => readonly VariantRef[] | undefined;
}

/** What a variant's own files say: measured bit rates, and its tracks. */
export interface VariantFacts {
  /** Peak segment bit rate (RFC 8216 §4.3.4.2 BANDWIDTH), bits/s; undefined without a measurable segment. */
  peak: number | undefined;
  /** Average over the listed segments (AVERAGE-BANDWIDTH), bits/s. */
  average: number | undefined;
  tracks: TrackInfo[] | undefined;
}

/** Bytes of a segment read for its tracks: an SPS comes with the first keyframe, at the start. */
const probeBytes = 1024 * 1024;
const maxCachedVariants = 256;

async function readPrefix(content: FileContent, limit: number): Promise<Uint8Array> {
  const { body } = content;
  if (body instanceof Uint8Array) return body.subarray(0, limit);
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      parts.push(value);
      size += value.length;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(parts).subarray(0, limit);
}

/** A URI of a playlist as a path in the same filesystem; undefined for absolute URLs and paths. */
function resolveUri(playlistPath: string, uri: string): string | undefined {
  const plain = uri.split(/[?#]/)[0]!;
  if (plain === '' || plain.startsWith('/') || /^[a-z][a-z0-9+.-]*:/i.test(plain)) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(plain);
  } catch (error) {
    // A malformed escape names no file.
    if (error instanceof URIError) return undefined;
    throw error;
  }
  const resolved = posix.normalize(posix.join(posix.dirname(playlistPath), decoded));
  return resolved.startsWith('/') && !resolved.startsWith('/..') ? resolved : undefined;
}

/**
 * Completes the master playlists a filesystem serves, whatever FFmpeg wrote into them: stock FFmpeg
 * leaves a variant out when it cannot tell its bit rate (a copied network source) — often every
 * variant, leaving `#EXTM3U` alone, which no player can play — or counts only the streams it knows
 * (an encoded audio track beside copied video: a tenth of the real rate). Every variant gets an
 * `#EXT-X-STREAM-INF` with `BANDWIDTH` no lower than the peak segment bit rate of its listed
 * segments, `AVERAGE-BANDWIDTH`, and, where its first segment (MPEG-TS) or initialization section
 * (fMP4) tells them, `RESOLUTION` and `CODECS`. Media playlists, and masters whose variants are
 * neither listed nor known, pass unchanged.
 */
export class MasterPlaylists {
  readonly #filesystem: Filesystem;
  readonly #options: MasterPlaylistsOptions;
  /** Tracks per variant, keyed by the file they were read from (its name, size and time). */
  readonly #tracks = new Map<string, { key: string; tracks: TrackInfo[] | undefined }>();

  constructor(filesystem: Filesystem, options: MasterPlaylistsOptions = {}) {
    this.#filesystem = filesystem;
    this.#options = options;
  }

  /** The playlist at `path` as it should be served. */
  async complete(path: string, text: string): Promise<string> {
    const playlist = parsePlaylistLines(text);
    if (playlist.media) return text;
    const known = this.#options.variantsOf?.(path) ?? [];
    if (playlist.variants.length === 0 && known.length === 0) return text;
    const lines = [...playlist.lines];
    const renditions = await this.#audioRenditions(path, lines);
    const listed = new Set<string>();
    for (const variant of playlist.variants) {
      const variantPath = resolveUri(path, variant.uri);
      if (variantPath) listed.add(variantPath);
      const facts = variantPath ? await this.facts(variantPath) : undefined;
      const attributes = completeAttributes(variant.attributes, facts, renditions);
      lines[variant.line] = `#EXT-X-STREAM-INF:${renderAttributes(attributes)}`;
    }
    if (lines.length === 0) lines.push('#EXTM3U');
    for (const variant of known) {
      if (listed.has(variant.path) || variant.audioRendition) continue;
      const facts = await this.facts(variant.path);
      if (facts.peak === undefined) continue;
      lines.push(
        `#EXT-X-STREAM-INF:${renderAttributes(completeAttributes([], facts, renditions))}`,
        variant.uri,
      );
    }
    return `${lines.join('\n')}\n`;
  }

  /** Measures one variant playlist: bit rates of its segments, tracks of its first one. */
  async facts(variantPath: string): Promise<VariantFacts> {
    const none: VariantFacts = { peak: undefined, average: undefined, tracks: undefined };
    const content = await this.#filesystem.read(variantPath);
    if (!content) return none;
    const media = parseMediaPlaylist(Buffer.from(await readPrefix(content, probeBytes)).toString('utf8'));
    const minimum = (media.targetDuration ?? 0) / 2;
    let bits = 0;
    let seconds = 0;
    let peak: number | undefined;
    let first: string | undefined;
    for (const segment of media.segments) {
      const segmentPath = resolveUri(variantPath, segment.uri);
      if (!segmentPath || segment.duration <= 0) continue;
      const size = segment.byteLength ?? (await this.#filesystem.stat(segmentPath))?.size;
      if (size === undefined) continue;
      first ??= segmentPath;
      bits += size * 8;
      seconds += segment.duration;
      // A segment much shorter than the target (cut at a restart) would make a meaningless peak.
      if (segment.duration >= minimum) peak = Math.max(peak ?? 0, (size * 8) / segment.duration);
    }
    const average = seconds > 0 ? Math.round(bits / seconds) : undefined;
    const mapPath = media.map ? resolveUri(variantPath, media.map) : undefined;
    const tracks = await this.#tracksOf(variantPath, mapPath ?? first, mapPath !== undefined);
    return { peak: peak === undefined ? average : Math.round(peak), average, tracks };
  }

  async #tracksOf(variantPath: string, file: string | undefined, init: boolean) {
    if (!file) return undefined;
    const info = await this.#filesystem.stat(file);
    if (!info) return undefined;
    const key = `${file}:${info.size}:${info.lastModified}`;
    const cached = this.#tracks.get(variantPath);
    if (cached?.key === key) return cached.tracks;
    const content = await this.#filesystem.read(file);
    if (!content) return undefined;
    const bytes = await readPrefix(content, probeBytes);
    const tracks = init ? mp4Tracks(bytes) : (mpegTsTracks(bytes) ?? mp4Tracks(bytes));
    this.#tracks.delete(variantPath);
    this.#tracks.set(variantPath, { key, tracks });
    if (this.#tracks.size > maxCachedVariants) this.#tracks.delete(this.#tracks.keys().next().value!);
    return tracks;
  }

  /** The measured audio renditions (`#EXT-X-MEDIA:TYPE=AUDIO`) by group: a variant naming the group carries them too. */
  async #audioRenditions(path: string, lines: readonly string[]): Promise<Map<string, VariantFacts[]>> {
    const groups = new Map<string, VariantFacts[]>();
    for (const line of lines) {
      if (!line.startsWith('#EXT-X-MEDIA:')) continue;
      const attributes = parseAttributes(line.slice(13));
      const group = unquote(attribute(attributes, 'GROUP-ID'));
      const uri = unquote(attribute(attributes, 'URI'));
      if (attribute(attributes, 'TYPE') !== 'AUDIO' || !group || !uri) continue;
      const renditionPath = resolveUri(path, uri);
      if (!renditionPath) continue;
      groups.set(group, [...(groups.get(group) ?? []), await this.facts(renditionPath)]);
    }
    return groups;
  }
}

/**
 * A variant's attributes with what its facts add: BANDWIDTH raised to the measured peak (plus its
 * audio group's), AVERAGE-BANDWIDTH, RESOLUTION and CODECS where absent and known.
 */
function completeAttributes(
  given: AttributeList,
  facts: VariantFacts | undefined,
  renditions: Map<string, VariantFacts[]>,
): AttributeList {
  const attributes: AttributeList = given.map(([name, value]) => [name, value]);
  if (!facts) return attributes;
  const group = unquote(attribute(attributes, 'AUDIO'));
  const audio = group ? (renditions.get(group) ?? []) : [];
  const most = (pick: (entry: VariantFacts) => number | undefined) =>
    Math.max(0, ...audio.map((entry) => pick(entry) ?? 0));
  if (facts.peak !== undefined) {
    const measured = facts.peak + most((entry) => entry.peak);
    const declared = Number(attribute(attributes, 'BANDWIDTH') ?? 0);
    setAttribute(
      attributes,
      'BANDWIDTH',
      String(Math.max(measured, Number.isFinite(declared) ? declared : 0)),
    );
  }
  if (facts.average !== undefined && !attribute(attributes, 'AVERAGE-BANDWIDTH')) {
    setAttribute(attributes, 'AVERAGE-BANDWIDTH', String(facts.average + most((entry) => entry.average)));
  }
  const video = facts.tracks?.find((track) => track.kind === 'video' && track.width && track.height);
  if (video && !attribute(attributes, 'RESOLUTION')) {
    setAttribute(attributes, 'RESOLUTION', `${video.width}x${video.height}`);
  }
  const tracks = [...(facts.tracks ?? []), ...audio.flatMap((entry) => entry.tracks ?? [])];
  const codecs = [...new Set(tracks.map((track) => track.codec))];
  if (facts.tracks && tracks.length > 0 && codecs.every((codec) => codec !== undefined)) {
    if (!attribute(attributes, 'CODECS')) setAttribute(attributes, 'CODECS', `"${codecs.join(',')}"`);
  }
  return attributes;
}
