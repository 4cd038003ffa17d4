import type { RTCPeerConnection } from 'werift';

/** RFC 8445 §14.2: the default pacing of connectivity checks, in milliseconds. */
const rfc8445Ta = 50;

/**
 * werift internals touched — checked against werift 0.25.2 (`lib/index.mjs`, `Connection.connect`):
 * - `Connection#schedulingChecks()`, which `connect()` calls every 20 ms and which starts the next
 *   waiting or frozen connectivity check each time it is called.
 *
 * Why: werift paces ordinary checks at 20 ms, where RFC 8445 §14.2 sets Ta to 50 ms by default
 * (and §14 bounds the rate an agent may send at). Together with the candidate cap
 * ({@link RemoteCandidateGate}) this bounds what one offer can make the server send to addresses
 * it names before anything proves they belong to the viewer.
 *
 * The wrapper lets a call through at most once per `intervalMs`; in between it reports "more to
 * do", so werift's loop keeps polling and runs the check on the next allowed tick. Triggered
 * checks (answers to authenticated requests) are not delayed.
 */
export function paceConnectivityChecks(pc: RTCPeerConnection, intervalMs = rfc8445Ta): void {
  for (const transport of pc.iceTransports) {
    const agent = transport.connection as unknown as { schedulingChecks(): boolean };
    const scheduleNextCheck = agent.schedulingChecks;
    let nextAllowedAt = 0;
    agent.schedulingChecks = function (this: unknown) {
      const now = performance.now();
      if (now < nextAllowedAt) return true;
      nextAllowedAt = now + intervalMs;
      return scheduleNextCheck.call(this);
    };
  }
}
