import { readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import type { ProcessConfig } from './config-schema.js';
import { FFmpegAccessDeniedError } from './errors.js';

const regexList = z
  .array(z.string())
  .default([])
  .check((ctx) => {
    for (const [index, expression] of ctx.value.entries()) {
      try {
        new RegExp(expression);
      } catch (error) {
        ctx.issues.push({
          code: 'custom',
          message: `not a regular expression: ${(error as Error).message}`,
          path: [index],
          input: expression,
        });
      }
    }
  });

/** datarhei's `ffmpeg.access.input` / `ffmpeg.access.output`. */
const accessListSchema = z.object({
  /** Regular expressions, unanchored; when any is given, an address must match one. @default [] */
  allow: regexList,
  /** Regular expressions, unanchored; an address that matches one is refused, before `allow` is asked. @default [] */
  block: regexList,
});

/** What FFmpeg sees of the server's environment unless told otherwise: enough to run, nothing secret. */
export const defaultFFmpegEnvironment = [
  'PATH',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'LD_LIBRARY_PATH',
  'FONTCONFIG_FILE',
  'FONTCONFIG_PATH',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
] as const;

/** What FFmpeg may read, write and see. */
export const ffmpegAccessSchema = z.object({
  /** Checked against each input address as written (after placeholders). */
  input: accessListSchema.prefault({}),
  /** Checked against each output address; file outputs as `file:<absolute path>`, as datarhei does. */
  output: accessListSchema.prefault({}),
  /**
   * Files and directories no address or option may name, for reading or writing — e.g. the server's
   * config file. A protected path covers what is below it and its copies beside it
   * (`config.json.1234.tmp`, `config.json.bak`). `/proc`, `/sys` and the process store are always
   * protected.
   * @default []
   */
  protectedPaths: z.array(z.string().min(1)).default([]),
  /**
   * Directories file outputs may write into (`/dev/null` is always allowed).
   * @default [the `diskfs` placeholder, else the data directory]
   */
  outputDirectories: z.array(z.string().min(1)).optional(),
  /** Names of environment variables FFmpeg inherits; everything else is withheld. @default defaultFFmpegEnvironment */
  environment: z.array(z.string().min(1)).default([...defaultFFmpegEnvironment]),
});

export type FFmpegAccessOptions = z.input<typeof ffmpegAccessSchema>;

/** Schemes whose addresses leave the machine's file system; `hls+http` and the like count too. */
const networkSchemes = new Set(
  'http https rtmp rtmps rtmpe rtmpt rtmpte rtmpts rtsp rtsps srt udp rtp srtp tcp tls dtls rist icecast mmsh mmst ftp sftp gopher gophers hls zmq prompeg'.split(
    ' ',
  ),
);
/** FFmpeg protocols that wrap a local path (or, for `tee`, several). */
const wrapperScheme = /^(file|md5|crypto|cache|async|unix|tee):/i;
const schemeOf = /^([A-Za-z][A-Za-z0-9+.-]*):/;
const teeSlaveOptions = /^\[[^\]]*\]/;
/** Separators inside FFmpeg arguments: option syntax (`a=b:c=d`), filter graphs, tee and concat lists. */
const tokenSeparators = /[\s'"=,;:|[\](){}<>]+/;

/** Decides whether a process config may run, and with which environment and working directory. */
export class FFmpegAccess {
  /** FFmpeg's working directory; relative paths in arguments resolve against it. */
  readonly cwd: string;
  readonly environment: Record<string, string>;
  readonly #protected: string[];
  readonly #outputDirectories: string[];
  readonly #input: { allow: RegExp[]; block: RegExp[] };
  readonly #output: { allow: RegExp[]; block: RegExp[] };

  constructor(
    options: z.output<typeof ffmpegAccessSchema>,
    context: {
      /** FFmpeg's working directory (the server's, so relative paths mean what they meant before). */
      cwd: string;
      storeFile: string;
      defaultOutputDirectory: string;
    },
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.cwd = realPath(resolve(context.cwd));
    this.#protected = ['/proc', '/sys', context.storeFile, ...options.protectedPaths].map((path) =>
      realPath(resolve(path)),
    );
    this.#outputDirectories = (options.outputDirectories ?? [context.defaultOutputDirectory]).map((path) =>
      realPath(resolve(path)),
    );
    const compile = (list: { allow: string[]; block: string[] }) => ({
      allow: list.allow.map((expression) => new RegExp(expression)),
      block: list.block.map((expression) => new RegExp(expression)),
    });
    this.#input = compile(options.input);
    this.#output = compile(options.output);
    this.environment = Object.fromEntries(
      options.environment.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name]]])),
    );
  }

  /** Throws `FFmpegAccessDeniedError` for the first thing the config (placeholders replaced) may not do. */
  check(processId: string, config: ProcessConfig): void {
    const deny = (where: string, reason: string) => new FFmpegAccessDeniedError(processId, where, reason);
    this.#checkPaths(config.options, 'options', deny);
    for (const input of config.input) {
      const where = `input ${input.id || '(unnamed)'}`;
      this.#checkPaths([input.address, ...input.options], where, deny);
      if (!listAllows(this.#input, input.address)) throw deny(where, 'the address is not allowed');
    }
    for (const output of config.output) {
      const where = `output ${output.id || '(unnamed)'}`;
      this.#checkPaths([output.address, ...output.options], where, deny);
      this.#checkOutput(output.address, where, deny);
    }
  }

  #checkOutput(address: string, where: string, deny: Deny): void {
    // datarhei's tee muxer addresses: `[opts]a|[opts]b`.
    if (address.includes('|') || address.startsWith('[')) {
      for (const slave of address.split('|'))
        this.#checkOutput(slave.replace(teeSlaveOptions, ''), where, deny);
      return;
    }
    const wrapper = wrapperScheme.exec(address);
    if (wrapper) {
      const rest = address.slice(wrapper[0].length);
      if (wrapper[1]?.toLowerCase() === 'tee') {
        for (const part of rest.split('|')) this.#checkOutput(part, where, deny);
      } else this.#checkOutput(rest, where, deny);
      return;
    }
    if (address === '-' || /^(pipe|fd):/.test(address)) return;
    const scheme = schemeOf.exec(address)?.[1];
    if (scheme !== undefined) {
      if (!isNetworkScheme(scheme)) throw deny(where, `the protocol "${scheme}:" is not allowed for outputs`);
      if (!listAllows(this.#output, address)) throw deny(where, 'the address is not allowed');
      return;
    }
    // `a/link/../b` is not `a/b` when `link` is a symbolic link; no output needs `..`.
    if (address.split('/').includes('..')) throw deny(where, 'an output path may not contain ".."');
    const path = resolve(this.cwd, address);
    // Without `..`, the real path of the longest existing ancestor is where FFmpeg would write.
    const real = realPath(path);
    const inside =
      real === '/dev/null' || this.#outputDirectories.some((directory) => isWithin(real, directory));
    if (!inside) throw deny(where, `${path} is outside the directories outputs may write to`);
    if (!listAllows(this.#output, `file:${path}`)) throw deny(where, 'the address is not allowed');
  }

  /** No argument may name a protected path, however it is wrapped (protocols, filter graphs, lists). */
  #checkPaths(texts: readonly string[], where: string, deny: Deny): void {
    for (const text of texts) {
      const scheme = schemeOf.exec(text)?.[1];
      if (scheme !== undefined && isNetworkScheme(scheme)) continue;
      // Filter graphs escape with backslashes; FFmpeg reads `\c` as `c`.
      for (const token of text.replaceAll('\\', '').split(tokenSeparators)) {
        if (token === '') continue;
        const hit = this.#protectedOnTheWay(isAbsolute(token) ? '/' : this.cwd, token);
        if (hit) throw deny(where, `${token} reaches ${hit}, which FFmpeg may not touch`);
      }
    }
  }

  /**
   * Walks `path` from `start` the way the kernel does — `..` after a symbolic link goes up from
   * the link's target — and returns the first protected path met on the way (`/dev/fd` is
   * `/proc/self/fd`, `/dev/stdin` is `/proc/self/fd/0`).
   */
  #protectedOnTheWay(start: string, path: string): string | undefined {
    const pending = path.split('/');
    let current = start;
    let links = 0;
    while (pending.length > 0) {
      const segment = pending.shift() as string;
      if (segment === '' || segment === '.') continue;
      if (segment === '..') {
        current = dirname(current);
        continue;
      }
      const next = join(current, segment);
      const hit = this.#protectedAt(next);
      if (hit) return hit;
      const target = linkTarget(next);
      if (target === undefined) {
        current = next;
        continue;
      }
      // ELOOP: the kernel gives up after 40 links; so do we, refusing.
      if (++links > 40) return next;
      pending.unshift(...target.split('/'));
      if (target.startsWith('/')) current = '/';
    }
    return this.#protectedAt(current);
  }

  #protectedAt(path: string): string | undefined {
    // The atomic writers' temp files and the store's corrupt copies are named `<file>.<suffix>`.
    return this.#protected.find((entry) => isWithin(path, entry) || path.startsWith(`${entry}.`));
  }
}

type Deny = (where: string, reason: string) => FFmpegAccessDeniedError;

/** datarhei's rule: a block match refuses; otherwise an empty allow list or an allow match admits. */
function listAllows(list: { allow: RegExp[]; block: RegExp[] }, address: string): boolean {
  if (list.block.some((expression) => expression.test(address))) return false;
  return list.allow.length === 0 || list.allow.some((expression) => expression.test(address));
}

function isNetworkScheme(scheme: string): boolean {
  return scheme
    .toLowerCase()
    .split('+')
    .every((part) => networkSchemes.has(part));
}

function isWithin(path: string, directory: string): boolean {
  return path === directory || path.startsWith(directory.endsWith('/') ? directory : `${directory}/`);
}

function linkTarget(path: string): string | undefined {
  try {
    return readlinkSync(path);
  } catch {
    // Not a link, or not there (yet): the path is taken as written.
    return undefined;
  }
}

/** The real path of the longest existing ancestor, with the rest appended. */
function realPath(path: string): string {
  const rest: string[] = [];
  let current = path;
  for (;;) {
    try {
      return join(realpathSync.native(current), ...rest.reverse());
    } catch {
      const parent = dirname(current);
      if (parent === current) return path;
      rest.push(basename(current));
      current = parent;
    }
  }
}
