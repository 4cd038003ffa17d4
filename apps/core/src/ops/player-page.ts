import { iceGatheringScript, pageStyle } from './page-parts.js';

/**
 * The page a user opens first: it plays one process over WHEP with nothing but the browser's own
 * WebRTC API (non-trickle: the offer carries every candidate, as the server's answer does), and
 * says honestly where things stand — starting, playing (resolution and frame rate from
 * `getStats`), audio only, input failing, stopped, or connected but not decodable, with the
 * server's plan line and health message from `/player/:id/status` (codecs and the server's own
 * words only: no input address, no FFmpeg log). A viewer of a process with renditions also shows
 * the rendition the server sends it and, below the top, what its link carries (the reason it is
 * not on the top), from the same status asked with its own session id; for 5 s after a switch it
 * says why the picture changed. `paths` (relative to the server's root) point it at
 * another WHEP endpoint, a WHIP publication's, whose status route there is none of.
 */
export function playerPage(
  processId: string,
  paths: { whep: string; status: string | null } = {
    whep: `api/v3/process/${encodeURIComponent(processId)}/whep`,
    status: `player/${encodeURIComponent(processId)}/status`,
  },
): string {
  const script = (value: unknown) => JSON.stringify(value).replaceAll('<', '\\u003c');
  const id = script(processId);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dragon player</title>
<style>
${pageStyle}
  #plan { color: #999; min-height: 1.4em; }
  button { margin-top: 8px; }
</style>
</head>
<body>
<main>
  <video id="video" autoplay muted playsinline controls></video>
  <div id="status">connecting…</div>
  <div id="plan"></div>
  <button id="unmute" type="button">Unmute</button>
</main>
<script type="module">
const processId = ${id};
const params = new URLSearchParams(location.search);
const token = params.get('token');
const base = new URL('/', location.href);
const endpoint = new URL(${script(paths.whep)}, base);
const statusPath = ${script(paths.status)};
const statusUrl = statusPath === null ? null : new URL(statusPath, base);
/**
 * The frame rate is counted over the last 5 s (3 s at least) from 2 s after the first frame: the
 * server primes a new viewer with the cached group of pictures, which decodes faster than real time
 * (a 25 fps source showed 38 fps at first when Chromium's own one-second figure was used), and a
 * one-second count swings with every burst a busy sender makes up for.
 */
const fpsSettleMs = 2000;
const fpsWindowMs = 5000;
const fpsShortestMs = 3000;
/** How long the reason of a rendition switch stays on the status line. */
const switchNoteMs = 5000;
/** Connected but no frame decoded for this long: the video is not decodable (the server says why). */
const undecodableAfterMs = 8000;
/**
 * Disconnected this long (ICE consent checks unanswered: the server restarted, or the network went
 * away), the player starts a new session rather than wait for the browser to call the connection
 * failed, which takes about ten seconds more. A blip shorter than this keeps the session.
 */
const reconnectAfterMs = 3000;
/**
 * A request that did not reach the server (it restarts, the network is away) is tried again after
 * 1, 2, 4, 8, then every 10 s, each ±20 % so that a server's viewers do not all come back at the
 * same instant. A session that starts begins the series again.
 */
const backoffCapSeconds = 10;
const video = document.getElementById('video');
const statusLine = document.getElementById('status');
const planLine = document.getElementById('plan');
document.getElementById('unmute').onclick = () => { video.muted = false; video.play(); };
const auth = token ? { Authorization: 'Bearer ' + token } : {};
let session = null;
let sessionId = null;
let pc = null;
let retryTimer = null;
let reconnectTimer = null;
/** Starts in a row that failed with no word from the server on when to come back. */
let failures = 0;
let connectedAt = 0;
let expectVideo = true;
let lastFrames = 0;
/** Samples decoded from packets: \`totalSamplesReceived\` counts the silence made up for missing ones too. */
let lastAudioSamples = 0;
/** What the page shows: one of starting, playing, audio-only, failing, stopped, not-decodable, unreachable, error. */
let state = 'starting';
let stats = { framesDecoded: 0, width: 0, height: 0, fps: 0, audioSamples: 0, concealedSamples: 0 };
/** [timestamp ms, framesDecoded] from the settled part of this session, the last fpsWindowMs. */
let frameSamples = [];
let firstFrameAt = 0;
/** A process with renditions: the server is asked where this viewer stands every other second. */
let adaptive = false;
let ticks = 0;
/** Where the server said this viewer stands (\`viewer\` of the status), and the latest switch's note. */
let viewer = null;
let viewerTop = null;
let planHasVideo = false;
const decodesH264 = () => ((RTCRtpReceiver.getCapabilities && RTCRtpReceiver.getCapabilities('video')) || { codecs: [] })
  .codecs.some((codec) => codec.mimeType.toLowerCase() === 'video/h264');
let switchNote = null;

function show(next, text) { state = next; statusLine.textContent = text; }

const trackText = (kind, track) => {
  if (track.action === 'off') return kind + ' off';
  if (track.action === 'copy') return kind + ' ' + codecName(track.from) + ' (copied)';
  return kind + ' ' + codecName(track.from) + ' → ' + codecName(track.to);
};
const codecNames = { h264: 'H.264', hevc: 'HEVC', opus: 'Opus', aac: 'AAC', mp3: 'MP3', vp9: 'VP9', av1: 'AV1', unknown: 'not known yet' };
function codecName(codec) { return codecNames[codec] || codec; }

/** The server's view: the plan line, and the health message when the video does not decode. */
async function serverStatus() {
  if (statusUrl === null) return undefined;
  try {
    const url = new URL(statusUrl);
    if (sessionId) url.searchParams.set('session', sessionId);
    const response = await fetch(url, { headers: auth, cache: 'no-store' });
    if (!response.ok) return undefined;
    const body = await response.json();
    planHasVideo = !!body.plan && body.plan.video.action !== 'off';
    if (body.plan) planLine.textContent = trackText('video', body.plan.video) + ' · ' + trackText('audio', body.plan.audio);
    // The audio-only fallback is listed too: two video renditions or more make a viewer adaptive.
    adaptive = (body.renditions || []).filter((rendition) => rendition.id !== 'audio').length > 1;
    learnRendition(body.viewer || null, (body.renditions || [])[0]);
    return body;
  } catch {
    return undefined;
  }
}

/** Keeps the server's word on this viewer; a new rendition leaves a note of why for a few seconds. */
function learnRendition(next, top) {
  if (next && viewer && next.rendition !== viewer.rendition) {
    const link = 'the link carries ~' + next.estimate_kbit + ' kbit/s';
    let why;
    if (next.rendition === 'audio') why = 'audio only: ' + link;
    else if (top && next.rendition === top.id) why = 'back to ' + next.rendition;
    else if (viewer.rendition === 'audio' || (next.height || 0) > (viewer.height || 0)) why = 'better quality: ' + link;
    else why = 'lower quality: ' + link;
    switchNote = { text: why, until: Date.now() + switchNoteMs };
  }
  viewer = next;
  viewerTop = top ? top.id : null;
}

/** What the line says of the rendition: \`360p · link ~550 kbit/s\` below the top, \`720p\` on it. */
function renditionText() {
  if (!viewer) return '';
  if (switchNote && Date.now() < switchNote.until) return ' · ' + switchNote.text;
  if (viewer.rendition === viewerTop) return ' · ' + viewer.rendition;
  return ' · ' + viewer.rendition + ' · link ~' + viewer.estimate_kbit + ' kbit/s';
}

/** Frames per second over the settled window (see fpsSettleMs), 0 until there is one. */
function measureFps(frames, at) {
  if (frames === 0) return 0;
  if (firstFrameAt === 0) firstFrameAt = at;
  if (at - firstFrameAt < fpsSettleMs) return 0;
  frameSamples.push([at, frames]);
  while (frameSamples.length > 2 && at - frameSamples[0][0] > fpsWindowMs) frameSamples.shift();
  const [since, then] = frameSamples[0];
  return at - since >= fpsShortestMs ? Math.round(((frames - then) * 1000) / (at - since)) : 0;
}

${iceGatheringScript}

async function play() {
  retryTimer = null;
  pc = new RTCPeerConnection();
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  const stream = new MediaStream();
  video.srcObject = stream;
  pc.ontrack = (event) => { stream.addTrack(event.track); video.play().catch(() => {}); };
  const peer = pc;
  pc.onconnectionstatechange = () => {
    if (pc !== peer) return;
    clearTimeout(reconnectTimer);
    if (pc.connectionState === 'connected') {
      connectedAt = Date.now(); lastFrames = 0; lastAudioSamples = 0;
      frameSamples = []; firstFrameAt = 0; viewer = null; switchNote = null;
    }
    if (pc.connectionState === 'disconnected') {
      reconnectTimer = setTimeout(() => {
        if (pc !== peer || pc.connectionState !== 'disconnected') return;
        show('starting', 'connection lost, reconnecting…');
        retry(0);
      }, reconnectAfterMs);
    }
    if (pc.connectionState === 'failed') { show('starting', 'connection lost, retrying…'); retry(2); }
  };
  await pc.setLocalDescription(await pc.createOffer());
  await waitForIceGathering(pc);
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', ...auth },
    body: pc.localDescription.sdp,
  });
  if (response.status !== 201) {
    const wait = Number(response.headers.get('Retry-After') || 0);
    const problem = await response.json().catch(() => ({}));
    const code = (problem.details || [])[0];
    pc.close();
    pc = null;
    if (code === 'PROCESS_STARTING') { show('starting', 'starting… retrying in ' + wait + ' s'); retry(wait || 2); }
    else if (code === 'INPUT_FAILING') { show('failing', 'the input is failing; retrying in ' + wait + ' s'); retry(wait || 15); }
    else if (code === 'PROCESS_STOPPED') { show('stopped', 'stopped'); retry(10); }
    else if (wait > 0) { show('starting', (problem.message || response.statusText) + '; retrying in ' + wait + ' s'); retry(wait); }
    // A proxy in front of a server that is not up: as good as no answer.
    else if (response.status >= 502 && response.status <= 504) backoff('unreachable', 'server unavailable (' + response.status + ')');
    else show('error', 'cannot play (' + response.status + '): ' + (problem.message || response.statusText));
    serverStatus();
    return;
  }
  session = new URL(response.headers.get('Location'), endpoint);
  sessionId = session.pathname.split('/').pop();
  const answer = await response.text();
  // A rejected video section (port 0): the process sends audio only, or this browser has no H.264.
  expectVideo = /^m=video [1-9]/m.test(answer);
  await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  failures = 0;
  // The server ends a session with a DTLS close_notify (it stops or restarts, the process stops):
  // the browser closes its DTLS transport at once, while the connection may still say "connected".
  const dtls = pc.getReceivers()[0]?.transport;
  if (dtls) dtls.onstatechange = () => {
    if (pc !== peer || (dtls.state !== 'closed' && dtls.state !== 'failed')) return;
    show('starting', 'the server ended the session, reconnecting…');
    retry(0);
  };
  show('starting', 'connected, waiting for the first picture…');
  serverStatus();
}

function retry(seconds) {
  if (retryTimer) return;
  retryTimer = setTimeout(() => { stop(); play().catch(failed); }, seconds * 1000);
}

/** Says why, and tries again after the next step of the backoff. */
function backoff(next, why) {
  const base = Math.min(backoffCapSeconds, 2 ** failures);
  failures += 1;
  const seconds = base * (0.8 + Math.random() * 0.4);
  show(next, why + ' · retrying in ' + Math.round(seconds) + ' s');
  retry(seconds);
}

/** A start that threw: \`fetch\` rejects with a TypeError when the request reached no server. */
function failed(error) {
  stop();
  if (error instanceof TypeError) backoff('unreachable', 'server unreachable');
  else backoff('error', 'cannot play: ' + String(error));
}

function stop() {
  if (session) fetch(session, { method: 'DELETE', headers: auth, keepalive: true }).catch(() => {});
  session = null;
  sessionId = null;
  viewer = null;
  if (pc) pc.close();
  pc = null;
}

async function watch() {
  if (!pc || pc.connectionState !== 'connected') return;
  const reports = await pc.getStats();
  const next = { framesDecoded: 0, width: 0, height: 0, fps: 0, audioSamples: 0, concealedSamples: 0 };
  reports.forEach((report) => {
    if (report.type !== 'inbound-rtp') return;
    if (report.kind === 'video') {
      next.framesDecoded = report.framesDecoded || 0;
      next.width = report.frameWidth || 0;
      next.height = report.frameHeight || 0;
      next.fps = measureFps(next.framesDecoded, report.timestamp);
    } else if (report.kind === 'audio') {
      next.audioSamples = report.totalSamplesReceived || 0;
      next.concealedSamples = report.concealedSamples || 0;
    }
  });
  stats = next;
  const framesRising = next.framesDecoded > lastFrames;
  // WebRTC stats: totalSamplesReceived includes concealedSamples, which go on rising for seconds
  // after the packets stop (the jitter buffer plays made-up audio); those are not audio arriving.
  const audioSamples = next.audioSamples - next.concealedSamples;
  const audioRising = audioSamples > lastAudioSamples;
  lastFrames = next.framesDecoded;
  lastAudioSamples = audioSamples;
  ticks += 1;
  if (adaptive && ticks % 2 === 0) await serverStatus();
  if (viewer && viewer.rendition === 'audio') {
    // The server paused the video: the link carries less than the lowest rendition needs.
    show('audio-only', 'audio only · link ~' + viewer.estimate_kbit + ' kbit/s' + (audioRising ? ' · with audio' : ''));
  } else if (expectVideo && next.framesDecoded > 0 && next.width > 0) {
    const size = next.width + '×' + next.height + (next.fps > 0 ? ' · ' + next.fps + ' fps' : '');
    show('playing', (framesRising ? 'playing · ' : 'frozen · ') + size + renditionText() + (audioRising ? ' · with audio' : ''));
  } else if (!expectVideo && audioRising) {
    // A process with video answered without it: this browser has no H.264 and the server made no
    // VP8 for it (VP8 off, or beyond what the server may spend: its plan says so).
    show('audio-only', planHasVideo && !decodesH264() ? 'playing audio: this browser cannot decode H.264, and the server makes no VP8 for it' : 'playing audio (no video)');
  } else if (expectVideo && Date.now() - connectedAt > undecodableAfterMs) {
    const status = await serverStatus();
    const why = status && status.health && status.health.message;
    show('not-decodable', 'connected, but no video frame could be decoded' + (why ? ': ' + why : ''));
  }
}

addEventListener('pagehide', stop);
setInterval(() => { watch().catch(() => {}); }, 1000);
window.dragonPlayer = {
  get peerConnection() { return pc; },
  get state() { return state; },
  get stats() { return stats; },
  /** Where the server says this viewer stands, with renditions (\`viewer\` of /player/:id/status). */
  get rendition() { return viewer; },
};
// A media element given a stream delays the page's load event until it has a frame (HTML, "delaying
// the load event"): started earlier, a player with nothing to play (stopped, starting, failing, unknown)
// would keep the browser's loading indicator spinning for ever. Start once the page has loaded.
const start = () => play().catch(failed);
if (document.readyState === 'complete') start();
else addEventListener('load', start, { once: true });
</script>
</body>
</html>`;
}
