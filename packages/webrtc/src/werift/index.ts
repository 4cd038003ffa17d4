/**
 * `@dragon/webrtc/werift`: helpers for werift peers you run yourself (viewers in tests and
 * benchmarks, a server's own WHEP client). The factory's own peers get the same treatment without them.
 */
export { iceGatheringComplete } from '../session/ice-gathering.js';
export { weriftCheckedVersion } from './checked-version.js';
export { withoutDefaultStunServer } from './default-stun.js';
export { dropIceSockets, filterIncoming } from './ice-internals.js';
export { startRestartedIce } from './restarted-ice.js';
export { useKeyObjectsForSrtp } from './srtp-keys.js';
