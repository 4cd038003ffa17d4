// Engine failures, one class each. They know nothing of HTTP: @dragon/whep-http answers them.

/**
 * The offer is not SDP we can use. `reason` is written for the offer's author (what is wrong with
 * the offer); a library's exception text is never a reason, it goes into `cause`.
 */
export class InvalidSdpError extends Error {
  override readonly name = 'InvalidSdpError';
  readonly code = 'INVALID_SDP' as const;
  constructor(
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`invalid SDP offer: ${reason}`, options);
  }
}

/** No m-line of the offer has a codec we send (H.264 packetization-mode 1, Opus). */
export class NoUsableCodecError extends Error {
  override readonly name = 'NoUsableCodecError';
  readonly code = 'NO_USABLE_CODEC' as const;
  constructor(readonly offered: string[]) {
    super(
      `the offer has no usable codec (we send H.264 packetization-mode=1 and Opus; offered: ${offered.join(', ') || 'nothing'})`,
    );
  }
}

/** ICE gathered no candidate: the configured port range is exhausted (or no interface matched). */
export class IcePortsExhaustedError extends Error {
  override readonly name = 'IcePortsExhaustedError';
  readonly code = 'ICE_PORTS_EXHAUSTED' as const;
  constructor() {
    super('no ICE candidate could be gathered: the ICE port range is exhausted');
  }
}

/** The source closed (its process stopped) while a viewer was being added to it. */
export class SourceClosedError extends Error {
  override readonly name = 'SourceClosedError';
  readonly code = 'SOURCE_CLOSED' as const;
  constructor(readonly sourceId: string) {
    super(`the source "${sourceId}" is closed`);
  }
}

/** A source's renditions are not usable as given: an id twice, or the top's own (`'top'`). */
export class RenditionConfigError extends Error {
  override readonly name = 'RenditionConfigError';
  readonly code = 'RENDITION_CONFIG' as const;
  constructor(
    readonly sourceId: string,
    readonly renditionId: string,
  ) {
    super(`the source "${sourceId}" has the rendition id "${renditionId}" twice (or the top's "top")`);
  }
}

/** A remote ICE candidate the server will not check (see `RemoteCandidatePolicy`). */
export class RemoteCandidateRefusedError extends Error {
  override readonly name = 'RemoteCandidateRefusedError';
  readonly code = 'REMOTE_CANDIDATE_REFUSED' as const;
  constructor(readonly reason: string) {
    super(`remote candidate refused: ${reason}`);
  }
}

/** The shared ICE socket cannot be opened or used (port taken, closed, credentials in use). */
export class UdpMuxError extends Error {
  override readonly name = 'UdpMuxError';
  readonly code = 'UDP_MUX' as const;
}

/**
 * The native data plane was asked for (`engine: 'native'`) but cannot run here: the addon was not
 * built or did not load, its worker script is missing, or a socket descriptor cannot be reached.
 */
export class FanoutUnavailableError extends Error {
  override readonly name = 'FanoutUnavailableError';
  readonly code = 'FANOUT_UNAVAILABLE' as const;
  constructor(readonly reason: string) {
    super(`the native fan-out is unavailable: ${reason}`);
  }
}

/**
 * A data-plane worker thread stopped without being asked to (an exception in its code, an exit, a
 * failure to start). The plane starts another in its place and moves the worker's sources and
 * viewers to it; this error says what happened, in the plane's `workerDied` event.
 */
export class FanoutWorkerDiedError extends Error {
  override readonly name = 'FanoutWorkerDiedError';
  readonly code = 'FANOUT_WORKER_DIED' as const;
  constructor(
    /** The worker's index (`dragon-fanout-<shard>`). */
    readonly shard: number,
    /** Its exit code, once it has exited. */
    readonly exitCode: number | undefined,
    options?: { cause?: unknown },
  ) {
    const why = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(`data-plane worker dragon-fanout-${shard} died (exit code ${exitCode ?? 'none'})${why}`, options);
  }
}
