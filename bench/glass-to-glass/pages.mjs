// The page side of the glass-to-glass benchmark: functions handed to Chromium pages as source
// (`fn.toString()`), so each is self-contained and takes everything it needs as arguments.

/**
 * In a page: waits until `video` has played for `warmupMs`, then on each presented frame
 * (`requestVideoFrameCallback`) draws the frame's top band into a canvas, reads the stamp and
 * records `expectedDisplayTime − stamp` on the wall clock (Date.now's, which FFmpeg's RTCTIME is:
 * the page's `timeOrigin` is corrected by the skew measured here). Also records, where the frame
 * came over WebRTC, the receive time of its last packet, which splits the delay into before the
 * browser and in it. Resolves after `frames` stamps read or `timeoutMs`.
 */
export function measurePresentedFrames({ frames, warmupMs, timeoutMs, layout, decodeSource }) {
  // The decoder's own source, handed in by the benchmark (a page cannot import it).
  const decodeStamp = new Function(`return (${decodeSource})`)();
  const video = window.g2gVideo;
  const skews = [];
  for (let i = 0; i < 21; i++) skews.push(Date.now() - (performance.timeOrigin + performance.now()));
  skews.sort((a, b) => a - b);
  const skew = skews[10];
  const period = 2 ** layout.bits;
  const unwrap = (value, now) => now + 1000 - ((((now + 1000 - value) % period) + period) % period);
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 2 * layout.row;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  const latency = [];
  const beforeBrowser = [];
  const inBrowser = [];
  let unread = 0;
  let presented = 0;
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (reason) =>
      resolve({
        latency,
        beforeBrowser,
        inBrowser,
        unread,
        presented,
        reason,
        skew,
        width: video.videoWidth,
      });
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    const onFrame = (_now, meta) => {
      presented++;
      if (performance.now() - started >= warmupMs && video.videoWidth > 0) {
        const scale = video.videoWidth / 640;
        context.drawImage(video, 0, 0, 640 * scale, canvas.height * scale, 0, 0, 640, canvas.height);
        const value = decodeStamp(context.getImageData(0, 0, 640, canvas.height).data, 640, layout);
        const shown = performance.timeOrigin + meta.expectedDisplayTime + skew;
        if (value < 0) unread++;
        else {
          const stamp = unwrap(value, shown);
          latency.push(shown - stamp);
          if (meta.receiveTime !== undefined) {
            const received = performance.timeOrigin + meta.receiveTime + skew;
            beforeBrowser.push(received - stamp);
            inBrowser.push(shown - received);
          }
        }
      }
      if (latency.length >= frames) {
        clearTimeout(timer);
        done('frames');
      } else video.requestVideoFrameCallback(onFrame);
    };
    video.requestVideoFrameCallback(onFrame);
  });
}

/**
 * In a page of the server's origin: a WHEP viewer of `endpoint` whose video (and audio, unmuted,
 * as a viewer hears it) plays in `window.g2gVideo`. Resolves once the answer is applied, or with
 * the refusal when the server does not answer.
 */
export async function playWhep(endpoint) {
  const pc = new RTCPeerConnection();
  window.g2gPc = pc;
  pc.addTransceiver('video', { direction: 'recvonly' });
  pc.addTransceiver('audio', { direction: 'recvonly' });
  const video = document.createElement('video');
  video.autoplay = true;
  video.playsInline = true;
  video.muted = false;
  const stream = new MediaStream();
  video.srcObject = stream;
  pc.ontrack = (event) => stream.addTrack(event.track);
  document.body.append(video);
  window.g2gVideo = video;
  await pc.setLocalDescription(await pc.createOffer());
  const response = await fetch(endpoint, {
    method: 'POST',
    body: pc.localDescription.sdp,
    headers: { 'Content-Type': 'application/sdp' },
  });
  if (response.status !== 201) {
    pc.close();
    video.remove();
    return `WHEP ${response.status}: ${await response.text()}`;
  }
  window.g2gSession = new URL(response.headers.get('Location'), endpoint).href;
  await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
  return 'playing';
}

/** In a viewer page: the video and audio jitter buffers' mean delays so far (ms), from getStats. */
export async function jitterBuffers() {
  const result = {};
  (await window.g2gPc.getStats()).forEach((report) => {
    if (report.type !== 'inbound-rtp' || !report.jitterBufferEmittedCount) return;
    result[report.kind] = (1000 * report.jitterBufferDelay) / report.jitterBufferEmittedCount;
    if (report.kind === 'video' && report.framesDecoded)
      result.decode = (1000 * report.totalDecodeTime) / report.framesDecoded;
  });
  return result;
}

/** In a viewer page: ends the WHEP session. */
export async function stopWhep() {
  window.g2gPc?.close();
  if (window.g2gSession) await fetch(window.g2gSession, { method: 'DELETE' });
  window.g2gVideo?.remove();
}

/**
 * In a publisher page: a 640×360 canvas redrawn every animation frame (a moving picture and the
 * stamp of `Date.now()`), captured at 30 fps, with a tone when `audio`. With `endpoint`, published
 * over WHIP (H.264 preferred, resolution kept under load) with `token`; without, played locally in
 * `window.g2gVideo`, which is the method's own floor in a browser (capture → present, no network).
 */
export async function publishCanvas({ endpoint, token, audio, layout, drawSource }) {
  // The stamp drawer's own source, handed in by the benchmark (a page cannot import it).
  const drawStamp = new Function(`return (${drawSource})`)();
  const canvas = document.createElement('canvas');
  canvas.width = 640;
  canvas.height = 360;
  document.body.append(canvas);
  const context = canvas.getContext('2d');
  let frame = 0;
  const draw = () => {
    frame++;
    context.fillStyle = `hsl(${(frame * 3) % 360}, 50%, 45%)`;
    context.fillRect(0, 0, 640, 360);
    context.fillStyle = '#eee';
    context.fillRect((frame * 7) % 600, 120 + ((frame * 3) % 200), 40, 40);
    drawStamp(context, Date.now(), layout);
    requestAnimationFrame(draw);
  };
  draw();
  const media = canvas.captureStream(30);
  media.getVideoTracks()[0].contentHint = 'detail';
  if (audio) {
    const audioContext = new AudioContext();
    const tone = audioContext.createOscillator();
    const destination = audioContext.createMediaStreamDestination();
    tone.connect(destination);
    tone.start();
    media.addTrack(destination.stream.getAudioTracks()[0]);
  }
  if (!endpoint) {
    const video = document.createElement('video');
    video.autoplay = true;
    video.muted = true;
    video.srcObject = media;
    document.body.append(video);
    window.g2gVideo = video;
    return;
  }
  const pc = new RTCPeerConnection();
  window.g2gPublisher = pc;
  for (const track of media.getTracks()) {
    const transceiver = pc.addTransceiver(track, { direction: 'sendonly', streams: [media] });
    if (track.kind === 'video') {
      const codecs = RTCRtpSender.getCapabilities('video')?.codecs ?? [];
      transceiver.setCodecPreferences(codecs.filter((codec) => codec.mimeType === 'video/H264'));
      const parameters = transceiver.sender.getParameters();
      parameters.degradationPreference = 'maintain-resolution';
      await transceiver.sender.setParameters(parameters);
    }
  }
  await pc.setLocalDescription(await pc.createOffer());
  await new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && resolve());
    setTimeout(resolve, 15_000);
  });
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/sdp', Authorization: `Bearer ${token}` },
    body: pc.localDescription.sdp,
  });
  if (response.status !== 201) throw new Error(`WHIP ${response.status}: ${await response.text()}`);
  window.g2gPublication = new URL(response.headers.get('Location'), endpoint).href;
  await pc.setRemoteDescription({ type: 'answer', sdp: await response.text() });
}

/** In a publisher page: ends the publication. */
export async function stopPublishing({ token }) {
  window.g2gPublisher?.close();
  if (window.g2gPublication)
    await fetch(window.g2gPublication, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } });
}
