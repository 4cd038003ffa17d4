import { describe, expect, it } from 'vitest';
import type { NodeRecord } from './cluster-records.js';
import { choosePlacement } from './placement.js';

function node(id: string, viewers: number, maxViewers = 100, pulling: string[] = []): NodeRecord {
  return {
    id,
    name: id,
    url: `http://${id}:8080`,
    version: '0.1.0',
    started_at: '2026-11-25T00:00:00.000Z',
    heartbeat_at: 0,
    load: {
      viewers,
      max_viewers: maxViewers,
      cpu_percent: 0,
      egress_bps: 0,
      pulls: pulling.length,
      processes: 0,
    },
    pulling,
  };
}

const place = (
  self: { viewers: number; maxViewers?: number },
  nodes: NodeRecord[],
  owner = 'origin',
  margin = 0.2,
) =>
  choosePlacement({
    processId: 'cam',
    self: { id: 'self', viewers: self.viewers, maxViewers: self.maxViewers ?? 100 },
    nodes,
    owner,
    margin,
  });

describe('choosePlacement', () => {
  it('serves here while no other node is emptier by more than the margin', () => {
    expect(place({ viewers: 20 }, [node('self', 0), node('b', 0)])).toEqual({ serve: 'here' });
    expect(place({ viewers: 5 }, [node('b', 0), node('c', 3)])).toEqual({ serve: 'here' });
  });

  it('redirects to the emptiest node once this one is fuller by more than the margin', () => {
    const placement = place({ viewers: 30 }, [node('b', 5), node('c', 2)]);
    expect(placement).toEqual({ redirect: expect.objectContaining({ id: 'c' }) });
  });

  it('redirects from a full node even to a node barely emptier', () => {
    expect(place({ viewers: 2, maxViewers: 2 }, [node('b', 1, 2)])).toEqual({
      redirect: expect.objectContaining({ id: 'b' }),
    });
  });

  it('serves here when every other node is full', () => {
    expect(place({ viewers: 10, maxViewers: 10 }, [node('b', 10, 10), node('c', 12, 10)])).toEqual({
      serve: 'here',
    });
  });

  it('prefers a node that already has the stream among nodes about as empty', () => {
    const withPull = node('b', 3, 100, ['cam']);
    expect(place({ viewers: 50 }, [node('a', 1), withPull])).toEqual({
      redirect: expect.objectContaining({ id: 'b' }),
    });
    expect(place({ viewers: 50 }, [node('a', 1), node('origin', 4)], 'origin')).toEqual({
      redirect: expect.objectContaining({ id: 'origin' }),
    });
  });

  it('never balances with a margin of 1, and never counts a node without a limit as full', () => {
    expect(place({ viewers: 99 }, [node('b', 0)], 'origin', 1)).toEqual({ serve: 'here' });
    expect(place({ viewers: 5000, maxViewers: 0 }, [node('b', 0, 0)])).toEqual({ serve: 'here' });
  });
});
