export {
  PortAllocationFailedError,
  PortAllocatorClosedError,
  PortLeaseStateError,
  PortRangeExhaustedError,
} from './errors.js';
export { ipv6Groups } from './ipv6-groups.js';
export { isLoopbackAddress } from './loopback.js';
export type {
  LeasedPort,
  PortAllocatorOptions,
  PortLease,
  PortRange,
  RtpPortPair,
  RtpPortSet,
} from './port-allocator.js';
export { PortAllocator } from './port-allocator.js';
