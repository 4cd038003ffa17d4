/** Every port in the configured range is held by a live allocation or by another program. */
export class PortRangeExhaustedError extends Error {
  override readonly name = 'PortRangeExhaustedError';
  readonly code = 'PORT_RANGE_EXHAUSTED' as const;
  constructor(
    readonly min: number,
    readonly max: number,
    readonly count: number,
  ) {
    super(`no ${count} free adjacent UDP port(s) in ${min}-${max}`);
  }
}

/** The OS kept handing out ports whose neighbours were taken; gave up after a bounded number of tries. */
export class PortAllocationFailedError extends Error {
  override readonly name = 'PortAllocationFailedError';
  readonly code = 'PORT_ALLOCATION_FAILED' as const;
  constructor(
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(`could not allocate adjacent UDP ports after ${attempts} attempts`, options);
  }
}

/** The allocator was closed; it hands out nothing more. */
export class PortAllocatorClosedError extends Error {
  override readonly name = 'PortAllocatorClosedError';
  readonly code = 'PORT_ALLOCATOR_CLOSED' as const;
  constructor() {
    super('the port allocator is closed');
  }
}

/** A lease's socket was taken over already, or the lease was released. */
export class PortLeaseStateError extends Error {
  override readonly name = 'PortLeaseStateError';
  readonly code = 'PORT_LEASE_STATE' as const;
  constructor(
    readonly port: number,
    readonly state: 'taken' | 'released',
  ) {
    super(`the socket of port ${port} is ${state === 'taken' ? 'already taken over' : 'released'}`);
  }
}
