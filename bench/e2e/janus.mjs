// Janus 1.x as the reference: a generated config directory with only the HTTP transport (loopback)
// and the streaming plugin, one RTP mountpoint (H.264 pt 96 + Opus pt 111 on loopback ports).
// Viewers watch it through the Janus HTTP API, one session per viewer as browsers do.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from './dragon.mjs';
import { spawnPinned } from './ffmpeg.mjs';

const libDirs = ['/usr/lib/x86_64-linux-gnu/janus', '/usr/lib/aarch64-linux-gnu/janus', '/usr/lib/janus'];
export const mountpointId = 1;

/** `janus --version` prints the version and then exits 1 for the unknown option; the text is what counts. */
function installedVersion() {
  const run = spawnSync('janus', ['--version'], { encoding: 'utf8' });
  if (run.error) return undefined;
  return /Janus version: \d+ \(([^)]+)\)/.exec(run.stdout)?.[1] ?? 'unknown';
}

/**
 * Janus's version, installing Debian's package first when it is missing and we may (root, apt);
 * undefined, with the reason printed, when it cannot be had.
 */
export function ensureJanus({ install }) {
  if (
    !installedVersion() &&
    install &&
    process.getuid?.() === 0 &&
    spawnSync('apt-get', ['--version']).status === 0
  ) {
    console.log('janus is not installed: apt-get install -y janus');
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (spawnSync('apt-get', ['install', '-y', '-qq', 'janus'], { stdio: 'inherit', env }).status !== 0) {
      spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
      spawnSync('apt-get', ['install', '-y', '-qq', 'janus'], { stdio: 'inherit', env });
    }
  }
  const version = installedVersion();
  if (!version) {
    console.log('janus is not installed (and could not be installed here): skipping the Janus side');
    return undefined;
  }
  const libDir = libDirs.find((dir) => spawnSync('test', ['-d', dir]).status === 0);
  if (!libDir) {
    console.log('janus is installed but its plugin directory was not found: skipping the Janus side');
    return undefined;
  }
  return { version, libDir };
}

/** The configuration files, written into `dir`. Everything not named here keeps Janus's defaults. */
export function janusConfig({ dir, libDir, httpPort, videoPort, audioPort }) {
  for (const sub of ['plugins', 'transports', 'events', 'loggers']) mkdirSync(join(dir, sub));
  // Folders holding only what is used, so Janus loads no other plugin or transport.
  symlinkSync(join(libDir, 'plugins/libjanus_streaming.so'), join(dir, 'plugins/libjanus_streaming.so'));
  symlinkSync(join(libDir, 'transports/libjanus_http.so'), join(dir, 'transports/libjanus_http.so'));
  const files = {
    'janus.jcfg': `general: {
  configs_folder = "${dir}"
  plugins_folder = "${dir}/plugins"
  transports_folder = "${dir}/transports"
  events_folder = "${dir}/events"
  loggers_folder = "${dir}/loggers"
  debug_level = 3
}
media: {
  ipv6 = false
}
nat: {
  nice_debug = false
  ignore_mdns = true
}
`,
    'janus.transport.http.jcfg': `general: {
  base_path = "/janus"
  http = true
  port = ${httpPort}
  ip = "127.0.0.1"
  https = false
}
admin: {
  admin_http = false
}
`,
    'janus.plugin.streaming.jcfg': `general: {
}
bench: {
  type = "rtp"
  id = ${mountpointId}
  description = "bench"
  audio = true
  video = true
  audioport = ${audioPort}
  audiopt = 111
  audiocodec = "opus"
  audioiface = "127.0.0.1"
  videoport = ${videoPort}
  videopt = 96
  videocodec = "h264"
  videofmtp = "profile-level-id=42e01f;packetization-mode=1"
  videoiface = "127.0.0.1"
}
`,
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return files;
}

export async function startJanus({ core, libDir, httpPort, videoPort, audioPort }) {
  const dir = mkdtempSync(join(tmpdir(), 'janus-e2e-'));
  const files = janusConfig({ dir, libDir, httpPort, videoPort, audioPort });
  const janus = spawnPinned(core, 'janus', ['-F', dir, '-C', join(dir, 'janus.jcfg')]);
  const base = `http://127.0.0.1:${httpPort}/janus`;
  await waitFor(
    'Janus HTTP',
    async () => ((await fetch(`${base}/info`)).ok ? true : undefined),
    20_000,
  ).catch((error) => {
    throw new Error(`${error.message}: ${janus.stderr()}`);
  });
  return {
    pid: janus.pid,
    base,
    files,
    async stop() {
      await janus.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let transactions = 0;
const transaction = () => `t${++transactions}`;

async function post(url, body) {
  const response = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
  const answer = await response.json();
  if (answer.janus === 'error') throw new Error(`Janus: ${answer.error?.reason}`);
  return answer;
}

/** One viewer's Janus session: create → attach streaming → watch → (offer) … start(answer). */
export class JanusViewerSession {
  #base;
  #id;
  #handle;
  #waiters = new Map();
  #poll = new AbortController();
  #keepalive;

  constructor(base) {
    this.#base = base;
  }

  /** Creates the session and handle and asks to watch the mountpoint; resolves with Janus's offer. */
  async watch() {
    this.#id = (await post(this.#base, { janus: 'create', transaction: transaction() })).data.id;
    void this.#longPoll();
    // Janus drops a session after 60 s without a request (session_timeout).
    this.#keepalive = setInterval(() => {
      void post(`${this.#base}/${this.#id}`, { janus: 'keepalive', transaction: transaction() }).catch(
        () => {},
      );
    }, 20_000);
    const attached = await post(`${this.#base}/${this.#id}`, {
      janus: 'attach',
      plugin: 'janus.plugin.streaming',
      transaction: transaction(),
    });
    this.#handle = attached.data.id;
    const event = await this.#message({ request: 'watch', id: mountpointId });
    if (!event.jsep) throw new Error(`Janus watch gave no offer: ${JSON.stringify(event.plugindata)}`);
    return event.jsep.sdp;
  }

  async start(answerSdp) {
    await this.#message({ request: 'start' }, { type: 'answer', sdp: answerSdp, trickle: false });
  }

  async destroy() {
    clearInterval(this.#keepalive);
    if (this.#id !== undefined)
      await post(`${this.#base}/${this.#id}`, { janus: 'destroy', transaction: transaction() }).catch(
        () => {},
      );
    this.#poll.abort();
  }

  /** Sends a plugin message; resolves with the plugin's (asynchronous) event for it. */
  async #message(body, jsep) {
    const id = transaction();
    const event = new Promise((resolve) => this.#waiters.set(id, resolve));
    const ack = await post(`${this.#base}/${this.#id}/${this.#handle}`, {
      janus: 'message',
      transaction: id,
      body,
      ...(jsep ? { jsep } : {}),
    });
    if (ack.janus === 'event') return ack;
    return event;
  }

  async #longPoll() {
    while (!this.#poll.signal.aborted) {
      try {
        const response = await fetch(`${this.#base}/${this.#id}?maxev=10`, { signal: this.#poll.signal });
        const events = [].concat(await response.json());
        for (const event of events) {
          const waiter = event.transaction && this.#waiters.get(event.transaction);
          if (waiter && event.janus === 'event') {
            this.#waiters.delete(event.transaction);
            waiter(event);
          }
        }
      } catch {
        if (this.#poll.signal.aborted) return;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }
}

/** The IPv4 host address Janus offers (Janus never gathers on loopback interfaces). */
export function offeredHost(sdp) {
  return /a=candidate:\S+ 1 udp \d+ (\d+\.\d+\.\d+\.\d+) \d+ typ host/.exec(sdp)?.[1];
}
