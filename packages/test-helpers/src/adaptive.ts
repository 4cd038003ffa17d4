export { type CappedLink, createCappedLink } from './capped-link.js';
export { type LadderRung, ladderFfmpegArgs } from './ladder.js';
