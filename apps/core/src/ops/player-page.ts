/**
 * The page a user opens first: it plays one process over WHEP with nothing but the browser's own
 * WebRTC API (non-trickle: the offer carries every candidate, as the server's answer does).
 */
export function playerPage(processId: string): string {
  const id = JSON.stringify(processId).replaceAll('<', '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dragon player</title>
<style>
  body { margin: 0; background: #111; color: #ddd; font: 14px system-ui, sans-serif; }
  main { max-width: 960px; margin: 0 auto; padding: 16px; }
  video { width: 100%; background: #000; aspect-ratio: 16 / 9; }
  #status { margin-top: 8px; min-height: 1.4em; }
  button { margin-top: 8px; }
</style>
</head>
<body>
<main>
  <video id="video" autoplay muted playsinline controls></video>
  <div id="status">connecting…</div>
  <button id="unmute" type="button">Unmute</button>
</main>
<script type="module">
const processId = ${id};
const params = new URLSearchParams(location.search);
const token = params.get('token');
const endpoint = new URL('/api/v3/process/' + encodeURIComponent(processId) + '/whep', location.href);
const video = document.getElementById('video');
const status = document.getElementById('status');
document.getElementById('unmute').onclick = () => { video.muted = false; video.play(); };
let session = null;
let pc = null;

function show(text) { status.textContent = text; }

async function waitForIceGathering(peer) {
  if (peer.iceGatheringState === 'complete') return;
  await new Promise((resolve) => {
    const done = () => { if (peer.iceGatheringState === 'complete') resolve(); };
    peer.addEventListener('icegatheringstatechange', done);
    setTimeout(resolve, 2000);
  });
}

async function play() {
  pc = new RTCPeerConnection();
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  const stream = new MediaStream();
  video.srcObject = stream;
  pc.ontrack = (event) => { stream.addTrack(event.track); video.play().catch(() => {}); };
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === 'failed') { show('connection lost, retrying…'); retry(2); }
  };
  await pc.setLocalDescription(await pc.createOffer());
  await waitForIceGathering(pc);
  const headers = { 'Content-Type': 'application/sdp' };
  if (token) headers.Authorization = 'Bearer ' + token;
  const response = await fetch(endpoint, { method: 'POST', headers, body: pc.localDescription.sdp });
  if (response.status !== 201) {
    const wait = Number(response.headers.get('Retry-After') || 0);
    const problem = await response.json().catch(() => ({}));
    show('cannot play (' + response.status + '): ' + (problem.message || response.statusText));
    pc.close();
    if (wait > 0) retry(wait);
    return;
  }
  session = new URL(response.headers.get('Location'), endpoint);
  await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
  show('connected');
}

function retry(seconds) {
  setTimeout(() => { stop(); play().catch((error) => show(String(error))); }, seconds * 1000);
}

function stop() {
  if (session) fetch(session, { method: 'DELETE', keepalive: true }).catch(() => {});
  session = null;
  if (pc) pc.close();
}

addEventListener('pagehide', stop);
setInterval(async () => {
  if (!pc || pc.connectionState !== 'connected') return;
  const stats = await pc.getStats();
  stats.forEach((report) => {
    if (report.type === 'inbound-rtp' && report.kind === 'video') {
      show('playing · ' + report.frameWidth + '×' + report.frameHeight + ' · ' + (report.framesPerSecond || 0) + ' fps · ' + report.framesDecoded + ' frames');
    }
  });
}, 1000);
window.dragonPlayer = { get peerConnection() { return pc; } };
play().catch((error) => show(String(error)));
</script>
</body>
</html>`;
}
