/**
 * The parts of RFC 8216 playlists a master playlist's completion reads and writes: attribute
 * lists (§4.2), a media playlist's segments (§4.3.2), a master playlist's variants (§4.3.4.2).
 */

/** One attribute of an attribute list, in order; `value` as written (quoted strings keep their quotes). */
export type AttributeList = [name: string, value: string][];

/** `BANDWIDTH=1280000,CODECS="avc1.64001f,mp4a.40.2"` → its attributes in order. */
export function parseAttributes(text: string): AttributeList {
  const attributes: AttributeList = [];
  const pattern = /\s*([A-Z0-9-]+)=("[^"]*"|[^,]*)\s*(?:,|$)/gy;
  for (let match = pattern.exec(text); match && match[0] !== ''; match = pattern.exec(text)) {
    attributes.push([match[1]!, match[2]!]);
  }
  return attributes;
}

export function renderAttributes(attributes: AttributeList): string {
  return attributes.map(([name, value]) => `${name}=${value}`).join(',');
}

export function attribute(attributes: AttributeList, name: string): string | undefined {
  return attributes.find(([key]) => key === name)?.[1];
}

/** Sets `name`, in place when present, else at the end. */
export function setAttribute(attributes: AttributeList, name: string, value: string): void {
  const existing = attributes.find(([key]) => key === name);
  if (existing) existing[1] = value;
  else attributes.push([name, value]);
}

export interface MediaSegment {
  uri: string;
  /** `#EXTINF` seconds. */
  duration: number;
  /** `#EXT-X-BYTERANGE` length, when the segment is a range of its file. */
  byteLength?: number;
}

export interface MediaPlaylist {
  segments: MediaSegment[];
  /** `#EXT-X-MAP` URI: the fMP4 initialization section. */
  map?: string;
  targetDuration?: number;
}

const isUriLine = (line: string) => line.length > 0 && !line.startsWith('#');

/** A quoted-string attribute value without its quotes. */
export function unquote(value: string | undefined): string | undefined {
  return value?.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/** The segments of a media playlist in order, with their durations (and byte ranges). */
export function parseMediaPlaylist(text: string): MediaPlaylist {
  const playlist: MediaPlaylist = { segments: [] };
  let duration: number | undefined;
  let byteLength: number | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('#EXTINF:')) duration = Number.parseFloat(line.slice(8));
    else if (line.startsWith('#EXT-X-BYTERANGE:')) byteLength = Number.parseInt(line.slice(17), 10);
    else if (line.startsWith('#EXT-X-TARGETDURATION:')) playlist.targetDuration = Number(line.slice(22));
    else if (line.startsWith('#EXT-X-MAP:') && playlist.map === undefined) {
      const uri = unquote(attribute(parseAttributes(line.slice(11)), 'URI'));
      if (uri) playlist.map = uri;
    } else if (isUriLine(line) && duration !== undefined) {
      playlist.segments.push({
        uri: line,
        duration: Number.isFinite(duration) ? duration : 0,
        ...(byteLength !== undefined && Number.isFinite(byteLength) ? { byteLength } : {}),
      });
      duration = undefined;
      byteLength = undefined;
    }
  }
  return playlist;
}

/** A master playlist's `#EXT-X-STREAM-INF` entry: its line, its attributes and the variant's URI line. */
export interface StreamInf {
  /** Index of the `#EXT-X-STREAM-INF` line. */
  line: number;
  attributes: AttributeList;
  uri: string;
}

export interface PlaylistLines {
  lines: string[];
  variants: StreamInf[];
  /** It has segments (`#EXTINF`) or a target duration: a media playlist, never completed. */
  media: boolean;
}

export function parsePlaylistLines(text: string): PlaylistLines {
  const lines = text.split('\n');
  // A trailing newline leaves an empty last line; completion writes its own endings.
  while (lines.length > 0 && lines.at(-1)!.trim() === '') lines.pop();
  const variants: StreamInf[] = [];
  let media = false;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line.startsWith('#EXTINF:') || line.startsWith('#EXT-X-TARGETDURATION:')) media = true;
    if (!line.startsWith('#EXT-X-STREAM-INF:')) continue;
    let next = index + 1;
    while (next < lines.length && !isUriLine(lines[next]!.trim())) next++;
    if (next >= lines.length) continue;
    variants.push({ line: index, attributes: parseAttributes(line.slice(18)), uri: lines[next]!.trim() });
  }
  return { lines, variants, media };
}
