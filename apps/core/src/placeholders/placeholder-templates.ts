import type { CleanupRule } from '@dragon/filesystems';
import {
  createPlaceholderResolver,
  type PlaceholderTemplates,
  type ProcessConfig,
  placeholderTemplate,
  replacePlaceholders,
} from '@dragon/restream';

/** What the placeholders point at. Functions are read at each start: the HTTP port may be known only after listen. */
export interface PlaceholderSources {
  /** `storage.disk.dir`, absolute. */
  diskfsDir: string;
  /** The memfs base URL with its write credentials, e.g. `http://admin:secret@localhost:8080/memfs`. */
  memfsUrl: () => string;
  /** Present when the RTMP server is enabled. */
  rtmp?: { address: () => string; app: string; token: string } | undefined;
  /** Present when the SRT server is enabled. */
  srt?: { address: () => string; token: string; passphrase: string } | undefined;
  /** Present when WHIP is enabled: the loopback feed's URL of a publication, `{name}` left in it. */
  whip?: { url: () => string } | undefined;
}

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

/**
 * The server's placeholders for the process manager, as datarhei's `app/api` registers them:
 * `{diskfs}`/`{fs:disk}`, `{memfs}`/`{fs:mem}`, `{rtmp,name=…}` (a local RTMP URL for that stream,
 * with the server's token) and `{srt,name=…,latency=…}` (a local SRT caller URL whose streamid
 * publishes in outputs and requests in inputs), and `{whip,name=…}` (a WHIP publication, read
 * from the loopback feed; inputs only). Syntax, escaping and where each may stand are
 * restream's (`replacePlaceholders`).
 */
export function placeholderTemplates(sources: PlaceholderSources): PlaceholderTemplates {
  const diskfs = () => sources.diskfsDir;
  const memfs = () => sources.memfsUrl();
  const templates: Record<string, PlaceholderTemplates[string]> = {
    diskfs,
    'fs:disk': diskfs,
    memfs,
    'fs:mem': memfs,
  };
  const { rtmp, srt, whip } = sources;
  // FFmpeg reads the publication from the loopback RTSP feed (token included), as a camera. The
  // name is one path segment whatever it holds: `../process/x` must not name another feed.
  if (whip) templates.whip = (params) => whip.url().replace('{name}', encodeURIComponent(params.name ?? ''));
  if (rtmp) {
    templates.rtmp = placeholderTemplate(() => {
      const app = rtmp.app === '/' ? '' : rtmp.app;
      const token = rtmp.token ? `?token=${encodeURIComponent(rtmp.token)}` : '';
      return `rtmp://${localHostPort(rtmp.address())}${app}/{name}${token}`;
    });
  }
  if (srt) {
    templates.srt = placeholderTemplate(
      (context) => {
        // datarhei's streamid form `name,mode:publish,token:…`.
        let url = `srt://${localHostPort(srt.address())}?mode=caller&transtype=live&latency={latency}&streamid={name}`;
        url += context.section === 'output' ? ',mode:publish' : ',mode:request';
        if (srt.token) url += `,token:${srt.token}`;
        if (srt.passphrase) url += `&passphrase=${encodeURIComponent(srt.passphrase)}`;
        return url;
      },
      // FFmpeg's SRT latency is in microseconds: 20 ms.
      { latency: '20000' },
    );
  }
  return templates;
}

const noServerPlaceholders = createPlaceholderResolver({});

/** A process's cleanup rules with `{processid}`, `{reference}` and `{outputid}` filled in. */
export function cleanupRulesOf(config: ProcessConfig): CleanupRule[] {
  return replacePlaceholders(config, noServerPlaceholders).output.flatMap((output) => output.cleanup);
}
