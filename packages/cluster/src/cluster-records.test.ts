import { describe, expect, it } from 'vitest';
import { ClusterKeys, isMarkedForFailover } from './cluster-records.js';

describe('cluster records', () => {
  it('reads the failover mark from the process metadata key "cluster"', () => {
    expect(isMarkedForFailover({ cluster: { failover: true } })).toBe(true);
    expect(isMarkedForFailover({ cluster: { failover: false } })).toBe(false);
    expect(isMarkedForFailover({ cluster: { failover: 'yes' } })).toBe(false);
    expect(isMarkedForFailover({ 'restreamer-ui': {} })).toBe(false);
    expect(isMarkedForFailover(undefined)).toBe(false);
  });

  it('names keys under the prefix and finds the id back, colons included', () => {
    const keys = new ClusterKeys('dragon');
    expect(keys.process('cam:1')).toBe('dragon:process:cam:1');
    expect(keys.idOf(keys.process('cam:1'))).toBe('cam:1');
    expect(keys.idOf(keys.owner('a.b'))).toBe('a.b');
    expect(keys.idOf(keys.node('n-1'))).toBe('n-1');
  });
});
