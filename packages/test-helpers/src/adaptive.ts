export { type CappedLink, canDropAtRandom, createCappedLink } from './capped-link.js';
export { type LadderRung, ladderFfmpegArgs } from './ladder.js';
export { playLadder, watchSource } from './ladder-viewer.js';
