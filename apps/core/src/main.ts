import { relaunchWithServerFlags } from './node-flags.js';

// Before the server's modules load (`serve.js`), so that a relaunch loads them once.
relaunchWithServerFlags();
await import('./serve.js');
