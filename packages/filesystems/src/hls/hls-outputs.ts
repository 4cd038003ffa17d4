import { posix } from 'node:path';
import type { VariantRef } from './master-playlist.js';

/** A master playlist FFmpeg's HLS muxer writes, and its variant playlists, as addresses FFmpeg got. */
export interface HlsMasterAddresses {
  master: string;
  variants: { playlist: string; audioRendition: boolean }[];
}

/** An output as a process config has it (placeholders already expanded). */
export interface OutputAddress {
  address: string;
  options: readonly string[];
}

/** The value of the last `-name value` in an option list. */
function optionValue(options: readonly string[], name: string): string | undefined {
  const index = options.lastIndexOf(name);
  return index >= 0 ? options[index + 1] : undefined;
}

/** Splits on `separator` where it is not escaped with `\`, and unescapes the parts. */
function splitEscaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  for (let index = 0; index < text.length; index++) {
    const char = text[index]!;
    if (char === '\\' && index + 1 < text.length) current += text[++index];
    else if (char === separator) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts;
}

/**
 * FFmpeg's hls muxer (libavformat/hlsenc.c): the master playlist is `master_pl_name` in the output's
 * directory; the variants are the output with `%v` replaced, per `var_stream_map` group, by the
 * group's `name:` or its index (one variant, the output itself, without a map). An audio-only
 * group in an `agroup:` is a rendition the master lists with `#EXT-X-MEDIA`, not a variant.
 */
function hlsMaster(address: string, masterName: string, streamMap: string | undefined): HlsMasterAddresses {
  const directory = posix.dirname(address);
  const master = directory === '.' ? masterName : `${directory}/${masterName}`;
  if (!streamMap) return { master, variants: [{ playlist: address, audioRendition: false }] };
  const groups = streamMap.split(/[\s]+/).filter((group) => group !== '');
  const variants = groups.map((group, index) => {
    const entries = new Map<string, string>();
    const kinds = new Set<string>();
    for (const part of group.split(',')) {
      const [key = '', value = ''] = part.split(':');
      entries.set(key, value);
      kinds.add(key);
    }
    const name = entries.get('name') ?? String(index);
    return {
      playlist: address.replaceAll('%v', name),
      audioRendition: kinds.has('a') && !kinds.has('v') && entries.has('agroup'),
    };
  });
  return { master, variants };
}

/**
 * The master playlists an output makes FFmpeg write: an HLS output (`-f hls`, or a `.m3u8`
 * address FFmpeg takes as HLS) with `-master_pl_name`, or each such slave of a tee muxer
 * (`[f=hls:master_pl_name=…]address|…`, the Restreamer UI's form when it also publishes over RTMP).
 */
export function hlsMastersOf(output: OutputAddress): HlsMasterAddresses[] {
  const format = optionValue(output.options, '-f');
  if (format === 'tee') {
    return splitEscaped(output.address, '|').flatMap((slave) => {
      const match = /^\[(.*)\](.*)$/s.exec(slave);
      if (!match) return [];
      const options = new Map(
        splitEscaped(match[1]!, ':').map((option) => {
          const equals = option.indexOf('=');
          return [option.slice(0, equals), option.slice(equals + 1)] as const;
        }),
      );
      const address = match[2]!;
      const hls = options.get('f') === 'hls' || (!options.has('f') && address.endsWith('.m3u8'));
      const masterName = options.get('master_pl_name');
      return hls && masterName ? [hlsMaster(address, masterName, options.get('var_stream_map'))] : [];
    });
  }
  const hls = format === 'hls' || (format === undefined && output.address.split('?')[0]!.endsWith('.m3u8'));
  const masterName = optionValue(output.options, '-master_pl_name');
  if (!hls || !masterName) return [];
  return [hlsMaster(output.address, masterName, optionValue(output.options, '-var_stream_map'))];
}

/** A file address as a path in one of the server's filesystems (`mem` and `/cam.m3u8`). */
export type LocateFile = (address: string) => { filesystem: string; path: string } | undefined;

/**
 * Which variants each master playlist has, from the HLS outputs of the processes that write them:
 * a master whose variants FFmpeg left out is completed from these.
 */
export class MasterPlaylistIndex {
  /** Per owner (a process id): filesystem → master path → variants. */
  readonly #owners = new Map<string, Map<string, Map<string, VariantRef[]>>>();

  /** Records `owner`'s outputs (replacing what it had); files outside the filesystems are left out. */
  set(owner: string, outputs: readonly OutputAddress[], locate: LocateFile): void {
    const byFilesystem = new Map<string, Map<string, VariantRef[]>>();
    for (const master of outputs.flatMap(hlsMastersOf)) {
      const masterFile = locate(master.master);
      if (!masterFile) continue;
      const variants = master.variants.flatMap((variant): VariantRef[] => {
        const file = locate(variant.playlist);
        if (!file || file.filesystem !== masterFile.filesystem) return [];
        return [
          {
            path: file.path,
            uri: posix.relative(posix.dirname(masterFile.path), file.path),
            ...(variant.audioRendition ? { audioRendition: true } : {}),
          },
        ];
      });
      const masters = byFilesystem.get(masterFile.filesystem) ?? new Map<string, VariantRef[]>();
      masters.set(masterFile.path, variants);
      byFilesystem.set(masterFile.filesystem, masters);
    }
    if (byFilesystem.size === 0) this.#owners.delete(owner);
    else this.#owners.set(owner, byFilesystem);
  }

  delete(owner: string): void {
    this.#owners.delete(owner);
  }

  /** The variants of the master at `path` in `filesystem`, when a process writes it. */
  variantsOf(filesystem: string, path: string): VariantRef[] | undefined {
    for (const masters of this.#owners.values()) {
      const variants = masters.get(filesystem)?.get(path);
      if (variants) return variants;
    }
    return undefined;
  }
}
