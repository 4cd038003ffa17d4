// What a connected werift viewer hands the scale receiver: its UDP socket's fd, where the server
// is, its ICE password and RTCP SSRC, the server's SRTP keys (to check tags) and its own SRTCP keys
// (to send reports). werift internals, checked against werift 0.25.2 (the same fields
// @dragon/webrtc's werift patches read): the ICE `Connection`'s `nominated` pair, `localPassword`
// and `stopConsentLifecycle`, the DTLS transport's `srtp.remoteContext` / `srtcp.localContext`
// and the receivers' `rtcpSsrc` / `stop()`. Throws when a field is missing, so a werift upgrade
// that moves them stops the benchmark instead of measuring nothing.

/** The fd of a bound dgram socket: Node keeps the libuv handle under its 'state symbol' (Node 22, 24). */
function udpHandle(socket) {
  const state = Object.getOwnPropertySymbols(socket).find((symbol) => symbol.description === 'state symbol');
  const handle = state && socket[state]?.handle;
  if (typeof handle?.fd !== 'number' || handle.fd < 0 || typeof handle.recvStop !== 'function')
    throw new Error('no libuv UDP handle with an fd on the viewer socket');
  return handle;
}

/** The SRTP (`srtp`) or SRTCP (`srtcp`) session keys of a werift SRTP context, as the addon takes them. */
export function keysOf(context, kind) {
  const cipher = context?.cipher;
  const key = cipher?.[`${kind}SessionKey`];
  const salt = cipher?.[`${kind}SessionSalt`];
  if (!Buffer.isBuffer(key) || !Buffer.isBuffer(salt)) throw new Error(`no ${kind} session keys in werift`);
  const authKey = cipher[`${kind}SessionAuthTag`];
  return { profile: context.profile, key, salt, ...(Buffer.isBuffer(authKey) ? { authKey } : {}) };
}

/**
 * Takes a connected viewer's receiving away from werift: Node stops reading its socket, werift
 * stops its consent checks and receiver reports, and `receiver` (the addon) reads, answers and
 * reports from now on. Returns the viewer's index in the addon.
 */
export function takeOver(pc, receiver) {
  const connection = pc.iceTransports[0]?.connection;
  const pair = connection?.nominated;
  const socket = pair?.protocol?.transport?.socket;
  const [host, port] = pair?.remoteAddr ?? [];
  const dtls = pc.dtlsTransports[0];
  if (!socket || typeof host !== 'string' || !dtls?.srtp || !dtls.srtcp)
    throw new Error('the viewer has no nominated UDP pair or SRTP session');
  const handle = udpHandle(socket);
  // Every local candidate's socket: werift may gather more than one on the address, and the server
  // may send on a pair other than the one this side nominated.
  const handles = [
    ...new Set((connection.protocols ?? []).map((protocol) => protocol.transport?.socket).filter(Boolean)),
  ].map(udpHandle);
  if (!handles.includes(handle)) handles.push(handle);
  const remote = dtls.srtp.remoteContext;
  const options = {
    fd: handle.fd,
    fds: handles.map((each) => each.fd),
    host,
    port,
    icePassword: connection.localPassword,
    rtcpSsrc: pc.getTransceivers()[0].receiver.rtcpSsrc,
    rtpIn: keysOf(remote, 'srtp'),
    rtcpOut: keysOf(dtls.srtcp.localContext, 'srtcp'),
    streams: Object.values(remote.srtpSSRCStates ?? {}).map((state) => ({
      ssrc: state.ssrc,
      roc: state.rolloverCounter,
    })),
  };
  for (const each of handles) each.recvStop();
  connection.stopConsentLifecycle();
  for (const transceiver of pc.getTransceivers()) transceiver.receiver.stop();
  return receiver.add(options);
}
