import { readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import type { ProcessConfig } from './config-schema.js';
import { FFmpegAccessDeniedError } from './errors.js';
import { configArguments } from './ffmpeg-command.js';
import { auditCommand } from './ffmpeg-command-audit.js';
import { unquote } from './ffmpeg-token.js';
import { isNetworkScheme, protocolOf, urlTargets } from './ffmpeg-url.js';

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

/** Separators inside FFmpeg arguments: option syntax (`a=b:c=d`), filter graphs, tee and concat lists. */
const tokenSeparators = /[\s'"=,;:|[\](){}<>]+/;
/** Glob characters: FFmpeg's image2 demuxer expands them (`-pattern_type glob`, or `%*` by default). */
const globCharacter = /[*?[{]/;

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

  /**
   * Throws `FFmpegAccessDeniedError` for the first thing the config (placeholders replaced) would make
   * FFmpeg open that it may not: judged on the command line as FFmpeg parses it (see `auditCommand`).
   */
  check(processId: string, config: ProcessConfig): void {
    const deny = (where: string, reason: string): never => {
      throw new FFmpegAccessDeniedError(processId, where, reason);
    };
    // One walk per distinct word: the same path appears in several readings of an argument.
    const walked = new Set<string>();
    auditCommand(configArguments(config), {
      deny,
      read: (target, where) => this.#read(target, where, deny),
      write: (target, where) => this.#write(target, where, deny),
      inputListed: (address, where) => {
        if (!listAllows(this.#input, address)) deny(where, 'the address is not allowed');
      },
      text: (text, where) => this.#text(text, where, deny, walked),
    });
  }

  #read(target: string, where: string, deny: Deny): void {
    for (const opened of urlTargets(target, 'read')) {
      if (opened.kind === 'refused') deny(where, opened.reason);
      if (opened.kind === 'file') this.#readPath(opened.path, where, deny);
    }
    if (!listAllows(this.#input, target)) deny(where, `${target}: the address is not allowed`);
  }

  #readPath(path: string, where: string, deny: Deny): void {
    const hit = this.#protectedOnTheWay(isAbsolute(path) ? '/' : this.cwd, path);
    if (hit) deny(where, `${path} reaches ${hit}, which FFmpeg may not touch`);
    const glob = globCharacter.exec(path);
    if (!glob) return;
    // A pattern matches below the directory before its first wildcard, through any `..`.
    if (path.split('/').includes('..')) deny(where, `the pattern ${path} may not contain ".."`);
    const fixed = path.slice(0, path.lastIndexOf('/', glob.index) + 1) || '.';
    const directory = realPath(resolve(this.cwd, fixed));
    const reachable = this.#protected.find(
      (entry) => isWithin(entry, directory) || isWithin(directory, entry),
    );
    if (reachable) deny(where, `the pattern ${path} could match ${reachable}, which FFmpeg may not touch`);
  }

  #write(target: string, where: string, deny: Deny): void {
    for (const opened of urlTargets(target, 'write')) {
      switch (opened.kind) {
        case 'refused':
          deny(where, opened.reason);
          break;
        case 'network':
          if (!listAllows(this.#output, target)) deny(where, `${target}: the address is not allowed`);
          break;
        case 'file':
          this.#writePath(opened.path, where, deny);
          break;
      }
    }
  }

  #writePath(written: string, where: string, deny: Deny): void {
    // `a/link/../b` is not `a/b` when `link` is a symbolic link; no output needs `..`.
    if (written.split('/').includes('..')) deny(where, `an output path may not contain "..": ${written}`);
    const path = resolve(this.cwd, written);
    // Without `..`, the real path of the longest existing ancestor is where FFmpeg would write.
    const real = realPath(path);
    const inside =
      real === '/dev/null' || this.#outputDirectories.some((directory) => isWithin(real, directory));
    if (!inside) deny(where, `${path} is outside the directories outputs may write to`);
    const hit = this.#protectedOnTheWay('/', path);
    if (hit) deny(where, `${path} reaches ${hit}, which FFmpeg may not touch`);
    if (!listAllows(this.#output, `file:${path}`)) deny(where, 'the address is not allowed');
  }

  /**
   * The catch-all: no word of the text, in any reading FFmpeg may give it (as written, unquoted once
   * or twice, backslashes dropped), may name a protected path, however it is wrapped.
   */
  #text(text: string, where: string, deny: Deny, walked: Set<string>): void {
    const once = unquote(text);
    for (const reading of new Set([text, once, unquote(once), text.replaceAll('\\', '')])) {
      const protocol = protocolOf(reading);
      if (protocol !== undefined && isNetworkScheme(protocol)) continue;
      for (const token of reading.split(tokenSeparators)) {
        if (token === '' || walked.has(token)) continue;
        walked.add(token);
        const hit = this.#protectedOnTheWay(isAbsolute(token) ? '/' : this.cwd, token);
        if (hit) deny(where, `${token} reaches ${hit}, which FFmpeg may not touch`);
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

type Deny = (where: string, reason: string) => never;

/** datarhei's rule: a block match refuses; otherwise an empty allow list or an allow match admits. */
function listAllows(list: { allow: RegExp[]; block: RegExp[] }, address: string): boolean {
  if (list.block.some((expression) => expression.test(address))) return false;
  return list.allow.length === 0 || list.allow.some((expression) => expression.test(address));
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
