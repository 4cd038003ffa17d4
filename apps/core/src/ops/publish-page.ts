import { iceGatheringScript, pageStyle } from './page-parts.js';

/**
 * The page beside the player that publishes: camera and microphone (or a screen) over WHIP to
 * `api/v3/whip/{name}`, with nothing but the browser's own WebRTC API (non-trickle: the offer
 * carries every candidate). The token is typed in or given in the URL fragment (`#token=…`), which
 * browsers never send, so it stays out of every request line and log; it is kept in
 * `sessionStorage` for the tab. It says where things stand — idle, connecting, publishing (bitrate
 * sent, layers), error with the reason — and links to the publication's player.
 */
export function publishPage(name: string): string {
  const script = (value: unknown) => JSON.stringify(value).replaceAll('<', '\\u003c');
  const html = name.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dragon publish · ${html}</title>
<style>
${pageStyle}
  #status[data-state="error"] { color: #f88; }
  #status[data-state="publishing"] { color: #8f8; }
  label, button { margin: 8px 8px 0 0; }
  a { color: #8cf; }
</style>
</head>
<body>
<main>
  <video id="preview" autoplay muted playsinline></video>
  <div id="status" data-state="idle">idle</div>
  <div>
    <label>Token <input id="token" type="password" autocomplete="off"></label>
    <label><input id="simulcast" type="checkbox"> simulcast (3 layers)</label>
  </div>
  <div>
    <button id="camera" type="button">Publish camera</button>
    <button id="screen" type="button">Publish screen</button>
    <button id="stop" type="button" disabled>Stop</button>
  </div>
  <p>Viewers: <a id="player" href="../player/whip/${encodeURIComponent(name)}">player/whip/${html}</a></p>
</main>
<script type="module">
const name = ${script(name)};
const endpoint = new URL('api/v3/whip/' + encodeURIComponent(name), new URL('/', location.href));
const statusLine = document.getElementById('status');
const preview = document.getElementById('preview');
const tokenField = document.getElementById('token');
const simulcastBox = document.getElementById('simulcast');
const buttons = { camera: document.getElementById('camera'), screen: document.getElementById('screen'), stop: document.getElementById('stop') };
// The fragment never leaves the browser: not in the request line, not in the server's logs.
function tokenFromFragment() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get('token');
  if (token === null) return;
  tokenField.value = token;
  // Out of the address bar (and of what a screenshot or a shared tab shows) once read.
  history.replaceState(null, '', location.pathname + location.search);
}
tokenField.value = sessionStorage.getItem('dragon-whip-token') || '';
tokenFromFragment();
addEventListener('hashchange', tokenFromFragment);
/** The server's refusals, in the words a publisher can act on. */
const refusals = {
  400: 'the server could not use this browser’s offer',
  401: 'the server refused the token',
  404: 'this server does not take publishers (WHIP is off)',
  409: 'another publisher is live on this name',
  413: 'the offer is too large',
  429: 'too many attempts, wait a minute',
  503: 'the server takes no more publications now',
};
let pc = null;
let media = null;
let session = null;
let state = 'idle';
let lastBytes = 0;
let lastAt = 0;
let stats = { bitrateKbit: 0, layers: 0 };

function show(next, text) {
  state = next;
  statusLine.dataset.state = next;
  statusLine.textContent = text;
  buttons.stop.disabled = next === 'idle' || next === 'error';
}

${iceGatheringScript}

/**
 * Three layers (full, half, quarter size) when asked for and the capture is tall enough to split;
 * the full one first: the server makes the first layer its top rendition.
 */
function encodings(track) {
  const height = track.getSettings().height || 0;
  if (!simulcastBox.checked || height < 360) return undefined;
  return [
    { rid: 'f', scaleResolutionDownBy: 1, maxBitrate: 2_500_000 },
    { rid: 'h', scaleResolutionDownBy: 2, maxBitrate: 700_000 },
    { rid: 'q', scaleResolutionDownBy: 4, maxBitrate: 200_000 },
  ];
}

async function publish(kind) {
  stop();
  const token = tokenField.value.trim();
  if (token) sessionStorage.setItem('dragon-whip-token', token);
  show('connecting', kind === 'screen' ? 'choosing a screen…' : 'opening the camera…');
  try {
    media = kind === 'screen'
      ? await navigator.mediaDevices.getDisplayMedia({ video: true, audio: true })
      : await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 720 }, audio: true });
  } catch (error) {
    show('error', 'no ' + (kind === 'screen' ? 'screen' : 'camera') + ': ' + (error.name === 'NotAllowedError' ? 'access refused' : error.message || String(error)));
    return;
  }
  preview.srcObject = media;
  const peer = pc = new RTCPeerConnection();
  for (const track of media.getTracks()) {
    const sendEncodings = track.kind === 'video' ? encodings(track) : undefined;
    const transceiver = pc.addTransceiver(track, { direction: 'sendonly', ...(sendEncodings ? { sendEncodings } : {}) });
    // With layers, the server adapts by choosing among them: under CPU load the browser keeps
    // their sizes (fewer frames instead), or it would shrink the capture and drop the top layer.
    if (sendEncodings) {
      const parameters = transceiver.sender.getParameters();
      await transceiver.sender.setParameters({ ...parameters, degradationPreference: 'maintain-resolution' });
    }
    // Dragon passes H.264 through to every browser: offer it alone.
    if (track.kind === 'video') {
      const h264 = (RTCRtpSender.getCapabilities('video')?.codecs || []).filter((codec) => codec.mimeType === 'video/H264');
      if (h264.length > 0) transceiver.setCodecPreferences(h264);
    }
    track.addEventListener('ended', () => { if (pc === peer) { stop(); show('idle', 'the capture ended'); } });
  }
  pc.onconnectionstatechange = () => {
    if (pc !== peer) return;
    if (pc.connectionState === 'connected') show('publishing', 'publishing');
    if (pc.connectionState === 'disconnected') show('connecting', 'connection interrupted, waiting…');
    if (pc.connectionState === 'failed') { stop(); show('error', 'connection lost (ICE failed): no path to the server'); }
  };
  show('connecting', 'connecting…');
  await pc.setLocalDescription(await pc.createOffer());
  await waitForIceGathering(pc);
  let response;
  try {
    response = await fetch(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp', ...(token ? { Authorization: 'Bearer ' + token } : {}) },
      body: pc.localDescription.sdp,
    });
  } catch {
    stop();
    show('error', 'server unreachable');
    return;
  }
  if (response.status !== 201) {
    const problem = await response.json().catch(() => ({}));
    stop();
    const why = refusals[response.status] || problem.message || response.statusText;
    show('error', 'refused (' + response.status + '): ' + why);
    return;
  }
  if (pc !== peer) return;
  session = { url: new URL(response.headers.get('Location'), endpoint), token };
  await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
}

function stop() {
  if (session) {
    const headers = session.token ? { Authorization: 'Bearer ' + session.token } : {};
    fetch(session.url, { method: 'DELETE', headers, keepalive: true }).catch(() => {});
  }
  session = null;
  if (pc) pc.close();
  pc = null;
  if (media) for (const track of media.getTracks()) track.stop();
  media = null;
  preview.srcObject = null;
  lastBytes = 0;
  stats = { bitrateKbit: 0, layers: 0 };
  if (state !== 'error') show('idle', 'idle');
}

/** What is sent: the bitrate over the last second, and how many simulcast layers carry video. */
async function watch() {
  if (!pc || pc.connectionState !== 'connected') return;
  let bytes = 0;
  let layers = 0;
  let width = 0;
  let height = 0;
  (await pc.getStats()).forEach((report) => {
    if (report.type !== 'outbound-rtp') return;
    bytes += report.bytesSent || 0;
    if (report.kind === 'video' && (report.framesEncoded || 0) > 0 && report.active !== false) {
      layers += 1;
      // The largest layer is the picture's size.
      if ((report.frameHeight || 0) > height) { width = report.frameWidth; height = report.frameHeight; }
    }
  });
  const size = height > 0 ? width + '×' + height : '';
  const now = performance.now();
  const kbit = lastAt > 0 && lastBytes > 0 ? Math.round(((bytes - lastBytes) * 8) / (now - lastAt)) : 0;
  lastBytes = bytes;
  lastAt = now;
  stats = { bitrateKbit: kbit, layers };
  const detail = [kbit + ' kbit/s', size, layers > 1 ? layers + ' layers' : ''].filter(Boolean).join(' · ');
  show('publishing', 'publishing · ' + detail);
}

buttons.camera.onclick = () => { publish('camera').catch((error) => { stop(); show('error', String(error)); }); };
buttons.screen.onclick = () => { publish('screen').catch((error) => { stop(); show('error', String(error)); }); };
buttons.stop.onclick = () => { stop(); show('idle', 'stopped'); };
addEventListener('pagehide', stop);
setInterval(() => { watch().catch(() => {}); }, 1000);
window.dragonPublisher = {
  get peerConnection() { return pc; },
  get state() { return state; },
  get stats() { return stats; },
};
</script>
</body>
</html>`;
}
