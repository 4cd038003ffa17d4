// The scale benchmark's load generator, in its own process: werift viewers make WHEP offers and
// complete ICE and DTLS as a browser does; once connected, each one's socket
// is taken over by the receiver addon (takeover.mjs), which reads every viewer on one thread.
// Driven over IPC by bench/e2e-scale.mjs: offers, answers, stats, closeAll, stop.
import { WeriftViewer } from '@dragon/test-helpers/werift';
import { loadReceiver } from './receiver-addon.mjs';
import { takeOver } from './takeover.mjs';

const receiver = loadReceiver();
receiver.start();
const viewers = [];
const failures = [];

function createViewer() {
  const entry = { viewer: new WeriftViewer({ record: false }), index: -1 };
  entry.viewer.pc.connectionStateChange.subscribe((state) => {
    if (state !== 'connected' || entry.index >= 0) return;
    try {
      entry.index = takeOver(entry.viewer.pc, receiver);
    } catch (error) {
      failures.push(error.message);
    }
  });
  return entry;
}

/** Per viewer: what the addon counted (fields in scale_receiver.cc's `Stats`). */
function stats() {
  const raw = receiver.stats();
  const fields = receiver.fieldsPerViewer;
  const names = [
    'packets',
    'bytes',
    'expected',
    'received',
    'lost',
    'duplicates',
    'authChecked',
    'authFailed',
    'rtcpIn',
    'stunAnswered',
    'reportsSent',
    'other',
    'streams',
  ];
  // In the order the viewers were created (the driver's order), null for one not taken over.
  const perViewer = viewers.map(({ index }) => {
    if (index < 0) return null;
    const at = 2 + index * fields;
    return Object.fromEntries(names.map((name, field) => [name, raw[at + field]]));
  });
  return { threadCpuSeconds: raw[0], batches: raw[1], perViewer };
}

process.on('message', async (message) => {
  if (message.type === 'offers') {
    const created = Array.from({ length: message.count }, () => createViewer());
    viewers.push(...created);
    const sdps = await Promise.all(created.map((entry) => entry.viewer.offer()));
    process.send({ type: 'offers', first: viewers.length - created.length, sdps });
  } else if (message.type === 'answers') {
    // No answer: the server refused the offer; that viewer is closed.
    await Promise.all(
      message.sdps.map((sdp, index) => {
        const { viewer } = viewers[message.start + index];
        return sdp ? viewer.accept(sdp) : viewer.close().catch(() => {});
      }),
    );
    process.send({ type: 'answered' });
  } else if (message.type === 'stats') {
    const taken = viewers.filter((entry) => entry.index >= 0).length;
    // Connection states of the viewers not taken over (still connecting, or failed).
    const waiting = viewers
      .filter((entry) => entry.index < 0)
      .map((entry) => entry.viewer.pc.connectionState);
    const failed = viewers.flatMap((entry, index) =>
      entry.index < 0 && ['failed', 'closed'].includes(entry.viewer.pc.connectionState) ? [index] : [],
    );
    process.send({
      type: 'stats',
      at: Date.now(),
      viewers: viewers.length,
      taken,
      waiting,
      failed,
      failures,
      ...stats(),
    });
  } else if (message.type === 'drop') {
    // Viewers whose sessions the driver deleted: no more reports from them.
    for (const index of message.indices) {
      const entry = viewers[index];
      if (entry && entry.index >= 0) receiver.drop(entry.index);
      entry?.viewer.close().catch(() => {});
    }
    process.send({ type: 'dropped' });
  } else if (message.type === 'stop') {
    receiver.close();
    process.exit(0);
  }
});
process.send({ type: 'ready' });
