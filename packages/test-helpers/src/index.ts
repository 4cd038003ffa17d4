export { vp8OnlyOffer } from './offers.js';
export { type Condition, waitFor } from './wait-for.js';
