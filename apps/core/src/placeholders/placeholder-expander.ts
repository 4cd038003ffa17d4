import type { ProcessConfig } from '@dragon/restream';
import type { CleanupRule } from '../fs/cleanup-manager.js';

/** Where in a process config a text sits: `{srt}` publishes in outputs and requests in inputs. */
export type PlaceholderSection = 'global' | 'input' | 'output';

/** What the templates point at. Functions are read at each expansion: the HTTP port may be known only after listen. */
export interface PlaceholderSources {
  /** `storage.disk.dir`, absolute. */
  diskfsDir: string;
  /** The memfs base URL with its write credentials, e.g. `http://admin:secret@localhost:8080/memfs`. */
  memfsUrl: () => string;
  /** Present when the RTMP server is enabled. */
  rtmp?: { address: () => string; app: string; token: string } | undefined;
  /** Present when the SRT server is enabled. */
  srt?: { address: () => string; token: string; passphrase: string } | undefined;
}

interface Template {
  render(section: PlaceholderSection): string;
  defaults: Record<string, string>;
}

/**
 * `{name^x,key=value,…}` as datarhei's replacer reads it: a name (`a-z`, optionally `:suffix` as in
 * `fs:mem`), an optional character to escape (`^:` escapes `:` with a backslash, for FFmpeg filter
 * arguments) and parameters up to the first `}`. The lazy `.*?` cannot backtrack beyond one `}`.
 */
const placeholderPattern = /\{([a-z]+(?::[0-9A-Za-z]+)?)(?:\^(.))?(?:,(.*?))?\}/g;
const templateSlot = /\{([a-z:]+)\}/g;

/** `host:port` / `:port` → a host a local client can reach (an empty or wildcard host is this machine). */
export function localHostPort(address: string): string {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
  const port = address.slice(separator + 1);
  const reachable = host === '' || host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return `${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

/** The memfs base URL FFmpeg writes to (datarhei's `{memfs}`), credentials included when auth is on. */
export function memfsBaseUrl(httpAddress: string, auth?: { username: string; password: string }): string {
  const credentials = auth
    ? `${encodeURIComponent(auth.username)}:${encodeURIComponent(auth.password)}@`
    : '';
  return `http://${credentials}${localHostPort(httpAddress)}/memfs`;
}

function safeUnescape(text: string): string | undefined {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return undefined;
  }
}

/**
 * Expands datarhei's placeholders: `{diskfs}`/`{fs:disk}`, `{memfs}`/`{fs:mem}`,
 * `{rtmp,name=…}` (a local RTMP URL for that stream, with the server's token) and
 * `{srt,name=…,latency=…}` (a local SRT caller URL whose streamid publishes in outputs and requests
 * in inputs). A pure function of its sources: the process manager calls it for each text it resolves.
 */
export function createPlaceholderExpander(sources: PlaceholderSources) {
  const templates = new Map<string, Template>();
  const fixed = (value: () => string): Template => ({ render: value, defaults: {} });
  templates.set(
    'diskfs',
    fixed(() => sources.diskfsDir),
  );
  templates.set(
    'fs:disk',
    fixed(() => sources.diskfsDir),
  );
  templates.set('memfs', fixed(sources.memfsUrl));
  templates.set('fs:mem', fixed(sources.memfsUrl));
  const { rtmp, srt } = sources;
  if (rtmp) {
    templates.set('rtmp', {
      render: () => {
        const app = rtmp.app === '/' ? '' : rtmp.app;
        const token = rtmp.token ? `?token=${encodeURIComponent(rtmp.token)}` : '';
        return `rtmp://${localHostPort(rtmp.address())}${app}/{name}${token}`;
      },
      defaults: {},
    });
  }
  if (srt) {
    templates.set('srt', {
      render: (section) => {
        // datarhei's streamid form `name,mode:publish,token:…`.
        let url = `srt://${localHostPort(srt.address())}?mode=caller&transtype=live&latency={latency}&streamid={name}`;
        url += section === 'output' ? ',mode:publish' : ',mode:request';
        if (srt.token) url += `,token:${srt.token}`;
        if (srt.passphrase) url += `&passphrase=${encodeURIComponent(srt.passphrase)}`;
        return url;
      },
      // FFmpeg's SRT latency is in microseconds: 20 ms.
      defaults: { latency: '20000' },
    });
  }

  const fill = (
    template: string,
    params: string,
    vars: Record<string, string>,
    defaults: Record<string, string>,
  ) => {
    const values: Record<string, string> = { ...defaults };
    for (const pair of params.split(',')) {
      if (!pair) continue;
      const at = pair.indexOf('=');
      const key = safeUnescape(at < 0 ? pair : pair.slice(0, at));
      let value = safeUnescape(at < 0 ? '' : pair.slice(at + 1));
      if (key === undefined || value === undefined) continue;
      for (const [name, replacement] of Object.entries(vars))
        value = value.replaceAll(`$${name}`, replacement);
      values[key] = value;
    }
    return template.replace(templateSlot, (slot, name: string) => values[name] ?? slot);
  };

  /**
   * Replaces the placeholders named in `only` (all known ones when omitted) in `text`. `vars` are
   * datarhei's `$processid`, `$reference`, `$inputid`, `$outputid`, usable inside parameter values.
   */
  return function expand(
    text: string,
    section: PlaceholderSection,
    vars: Record<string, string> = {},
    only?: readonly string[],
  ): string {
    return text.replace(
      placeholderPattern,
      (whole, name: string, escaped: string | undefined, params = '') => {
        if (only && !only.includes(name) && !(name.startsWith('fs:') && only.includes('fs:*'))) return whole;
        const template = templates.get(name);
        if (!template) return whole;
        let value = fill(template.render(section), params, vars, template.defaults);
        if (escaped) {
          if (escaped !== '\\') value = value.replaceAll('\\', '\\\\\\');
          value = value.replaceAll(escaped, `\\\\${escaped}`);
        }
        return value;
      },
    );
  };
}

export type PlaceholderExpander = ReturnType<typeof createPlaceholderExpander>;

/** datarhei's value placeholders (`{processid}`, …), which take no parameters. */
function replaceValues(text: string, values: Record<string, string>): string {
  return text.replace(/\{([a-z]+)\}/g, (whole, name: string) => values[name] ?? whole);
}

/**
 * Resolves a whole process config as datarhei's restream does before each start: global options see
 * `{diskfs}`/`{fs:*}`; inputs and outputs also `{memfs}`, and their addresses `{rtmp}`/`{srt}`;
 * `{processid}`, `{reference}`, `{inputid}`/`{outputid}` everywhere, including cleanup patterns.
 */
export function expandProcessConfig(config: ProcessConfig, expand: PlaceholderExpander): ProcessConfig {
  const ids = { processid: config.id, reference: config.reference };
  const globalOnly = ['diskfs', 'fs:*'];
  const optionOnly = ['diskfs', 'memfs', 'fs:*'];
  const addressOnly = ['diskfs', 'memfs', 'fs:*', 'rtmp', 'srt'];
  return {
    ...config,
    options: config.options.map((option) => expand(option, 'global', ids, globalOnly)),
    input: config.input.map((input) => {
      const vars = { ...ids, inputid: input.id };
      const resolve = (text: string, only: string[]) =>
        expand(replaceValues(text, vars), 'input', vars, only);
      return {
        ...input,
        address: resolve(input.address, addressOnly),
        options: input.options.map((option) => resolve(option, optionOnly)),
      };
    }),
    output: config.output.map((output) => {
      const vars = { ...ids, outputid: output.id };
      const resolve = (text: string, only: string[]) =>
        expand(replaceValues(text, vars), 'output', vars, only);
      return {
        ...output,
        address: resolve(output.address, addressOnly),
        options: output.options.map((option) => resolve(option, optionOnly)),
        cleanup: output.cleanup.map((rule) => ({ ...rule, pattern: replaceValues(rule.pattern, vars) })),
      };
    }),
  };
}

/** A process's cleanup rules with `{processid}`, `{reference}` and `{outputid}` filled in. */
export function cleanupRulesOf(config: ProcessConfig): CleanupRule[] {
  return config.output.flatMap((output) =>
    output.cleanup.map((rule) => ({
      ...rule,
      pattern: replaceValues(rule.pattern, {
        processid: config.id,
        reference: config.reference,
        outputid: output.id,
      }),
    })),
  );
}
