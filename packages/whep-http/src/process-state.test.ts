import { describe, expect, it } from 'vitest';
import { whepProcessState } from './process-state.js';

describe('whepProcessState', () => {
  it.each([
    ['stop', 'running', true, 'stopped'],
    ['stop', 'finished', true, 'stopped'],
    ['start', 'running', false, 'running'],
    ['start', 'starting', false, 'starting'],
    ['start', 'finishing', true, 'starting'],
    ['start', 'failed', true, 'failing'],
    ['start', 'killed', true, 'failing'],
    ['start', 'failed', false, 'stopped'],
    ['start', 'finished', true, 'starting'],
    ['start', 'finished', false, 'stopped'],
  ] as const)('order %s, exec %s, reconnect %s → %s', (order, exec, reconnect, expected) => {
    expect(whepProcessState({ order, exec }, reconnect)).toBe(expected);
  });
});
