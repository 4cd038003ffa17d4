import { describe, expect, it } from 'vitest';
import { InvalidWhepOptionsError } from './errors.js';
import { nodeRemoteAddress, resolveOptions } from './options.js';

const lookup = () => undefined;
const createPeer = async () => {
  throw new Error('unused');
};

describe('the WHEP route options', () => {
  it('fill in every default and keep the functions they were given', () => {
    const resolved = resolveOptions({ lookup, createPeer });

    expect(resolved).toMatchObject({
      iceServers: [],
      concealProcessIds: false,
      maxBodyBytes: 65536,
      tokenFailureLimit: { windowMs: 60_000, maxFailures: 20 },
      retryAfterSeconds: 5,
      failingRetryAfterSeconds: 15,
      corsOrigin: '*',
      requireIfMatchForTrickle: false,
      basePath: '/api/v3/process',
    });
    expect(resolved.lookup).toBe(lookup);
    expect(resolved.createPeer).toBe(createPeer);
    expect(resolved.clientAddress).toBe(nodeRemoteAddress);
    expect(resolved.token).toBeUndefined();
    expect(resolved.rateLimit).toBeUndefined();
    expect(() => resolved.logger.info({}, 'dropped')).not.toThrow();
  });

  it('refuse what does not validate, naming each option and why', () => {
    let caught: unknown;
    try {
      resolveOptions({
        lookup: 'not a function' as never,
        createPeer,
        iceServers: [{ urls: 'http://not-ice', credential: 'has "quotes"' }],
        maxBodyBytes: 0,
        basePath: '/trailing/',
        tokenFailureLimit: { windowMs: 0, maxFailures: 1 },
      });
    } catch (error) {
      caught = error;
    }

    expect(caught).toBeInstanceOf(InvalidWhepOptionsError);
    const issues = (caught as InvalidWhepOptionsError).issues.join('\n');
    for (const path of [
      'lookup',
      'iceServers.0.urls',
      'iceServers.0.credential',
      'maxBodyBytes',
      'basePath',
    ]) {
      expect(issues).toContain(`${path}:`);
    }
    expect(issues).toContain('tokenFailureLimit');
  });

  it('accept a boolean or a function for concealing process ids, and false for no token-failure limit', () => {
    const conceal = () => true;

    const resolved = resolveOptions({
      lookup,
      createPeer,
      concealProcessIds: conceal,
      tokenFailureLimit: false,
    });

    expect(resolved.concealProcessIds).toBe(conceal);
    expect(resolved.tokenFailureLimit).toBe(false);
  });
});
