export { handwrittenOffer, vp8OnlyOffer } from './offers.js';
export { rejectedSectionProblems } from './rejected-section.js';
export { type Condition, waitFor } from './wait-for.js';
