export { FakePeer } from './fake-peer.js';
export { handwrittenOffer, vp8OnlyOffer } from './offers.js';
export { runInstalledPackages } from './packed-install.js';
export { rejectedSectionProblems } from './rejected-section.js';
export { selfSignedCertificate } from './tls.js';
export { type Condition, waitFor } from './wait-for.js';
