import type { WhepProcessState } from './options.js';

/** A process as restream reports it: what it was ordered to do, and where its FFmpeg is. */
export interface RunState {
  order: 'start' | 'stop';
  exec: 'finished' | 'starting' | 'running' | 'finishing' | 'failed' | 'killed';
}

/**
 * Where a process stands for a viewer, from restream's order and FFmpeg state. A process that will
 * not run again by itself (stopped, or exited without `reconnect`) is `stopped`; one that failed and
 * will reconnect is `failing`; one on its way up (or ended and about to reconnect) is `starting`.
 */
export function whepProcessState(state: RunState, reconnect: boolean): WhepProcessState {
  if (state.order === 'stop') return 'stopped';
  switch (state.exec) {
    case 'running':
      return 'running';
    case 'starting':
    case 'finishing':
      return 'starting';
    case 'failed':
    case 'killed':
      return reconnect ? 'failing' : 'stopped';
    case 'finished':
      return reconnect ? 'starting' : 'stopped';
  }
}
