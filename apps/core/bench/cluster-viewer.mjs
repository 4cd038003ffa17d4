// What the cluster benchmark's viewers measure: a werift viewer that timestamps every video packet
// (and remembers each by its payload, so the same packet can be found at a viewer of another node),
// the time a node takes to answer one and send it media, and the longest silence it saw.
import { waitFor } from '@dragon/test-helpers/server';
import { WeriftViewer } from '@dragon/test-helpers/werift';

/** A werift viewer (the shared one) that timestamps every video packet it receives. */
export function viewer() {
  const state = { arrivals: [], keys: new Map() };
  state.viewer = new WeriftViewer({
    record: false,
    // Decrypts as cheaply as the server encrypts: viewers and nodes share the CPU.
    keyObjects: true,
    onRtp: (kind, rtp) => {
      if (kind !== 'video') return;
      const now = performance.now();
      state.arrivals.push(now);
      if (state.keys.size < 200_000) {
        state.keys.set(`${rtp.payload.length}:${rtp.payload.subarray(0, 32).toString('base64')}`, now);
      }
    },
  });
  state.pc = state.viewer.pc;
  return state;
}

/** A new viewer of `processId` on `node`: how long the answer and the first packet took. */
export async function watch(node, processId = 'cam') {
  const v = viewer();
  const offer = await v.viewer.offer();
  let posted;
  let response;
  // A process between two runs (its FFmpeg restarting, its owner changing) answers 409 "retry
  // shortly", as a player would be told; the benchmark retries for as long as a player would wait.
  for (const deadline = performance.now() + 30_000; ; ) {
    posted = performance.now();
    response = await fetch(`${node.base}/api/v3/process/${processId}/whep`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/sdp' },
      body: offer,
    });
    if (response.status !== 409 || performance.now() > deadline) break;
    const refusal = await response.text();
    if (!refusal.includes('PROCESS_STARTING')) throw new Error(`offer to ${node.name} → 409: ${refusal}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (response.status !== 201)
    throw new Error(`offer to ${node.name} → ${response.status}: ${await response.text()}`);
  const answered = performance.now();
  await v.viewer.accept(await response.text());
  await waitFor('first packet', () => v.arrivals.length > 0, 30_000);
  return { viewer: v, answerMs: answered - posted, firstPacketMs: v.arrivals[0] - posted };
}

/** The longest silence between packets in [from, to] (performance.now() times). */
export function longestGap(arrivals, from, to) {
  let last = from;
  let gap = 0;
  for (const at of arrivals) {
    if (at < from) continue;
    if (at > to) break;
    gap = Math.max(gap, at - last);
    last = at;
  }
  return Math.max(gap, to - last);
}
