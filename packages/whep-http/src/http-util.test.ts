import { describe, expect, it } from 'vitest';
import { BodyTooLargeError, UnauthorizedError } from './errors.js';
import {
  bearerAccepted,
  iceServerLinks,
  ifMatchSatisfied,
  newEtag,
  readBodyLimited,
  requireBearer,
} from './http-util.js';

describe('readBodyLimited', () => {
  /** A request as a server adapter hands it over, noting whether the web stream was asked for. */
  function request(body: string, headers: Record<string, string>) {
    const real = new Request('http://localhost/x', { method: 'POST', body, headers });
    const seen = { stream: false };
    const proxy = new Proxy(real, {
      get(target, name) {
        if (name === 'body') seen.stream = true;
        const value = Reflect.get(target, name, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    return { request: proxy, seen };
  }

  it('reads a body with a Content-Length whole, without a web stream (the adapter reads its socket)', async () => {
    const { request: declared, seen } = request('v=0', { 'content-length': '3' });
    expect(new TextDecoder().decode(await readBodyLimited(declared, 64))).toBe('v=0');
    expect(seen.stream).toBe(false);
  });

  it('refuses a declared length over the limit before reading, and cuts a chunked body at the limit', async () => {
    const { request: declared, seen } = request('x'.repeat(100), { 'content-length': '100' });
    await expect(readBodyLimited(declared, 64)).rejects.toBeInstanceOf(BodyTooLargeError);
    expect(seen.stream).toBe(false);
    const { request: chunked } = request('x'.repeat(100), {});
    await expect(readBodyLimited(chunked, 64)).rejects.toBeInstanceOf(BodyTooLargeError);
  });
});

describe('ifMatchSatisfied', () => {
  it('matches "*", the exact strong tag, or a list holding it', () => {
    expect(ifMatchSatisfied('*', '"a"')).toBe(true);
    expect(ifMatchSatisfied('"a"', '"a"')).toBe(true);
    expect(ifMatchSatisfied('"x", "a"', '"a"')).toBe(true);
    expect(ifMatchSatisfied('"b"', '"a"')).toBe(false);
    expect(ifMatchSatisfied('W/"a"', '"a"')).toBe(false);
  });
});

describe('requireBearer', () => {
  it('lets everything through when no token is configured', () => {
    expect(() => requireBearer(undefined, [undefined, undefined])).not.toThrow();
  });

  it('tells a missing token from a wrong one', () => {
    expect(() => requireBearer(undefined, ['t'])).toThrow(expect.objectContaining({ reason: 'missing' }));
    expect(() => requireBearer('Bearer x', ['t'])).toThrow(UnauthorizedError);
    expect(() => requireBearer('Bearer x', ['t'])).toThrow(expect.objectContaining({ reason: 'invalid' }));
  });

  it('accepts any of the configured tokens', () => {
    expect(() => requireBearer('Bearer two', ['one', 'two'])).not.toThrow();
  });
});

describe('bearerAccepted', () => {
  it('answers the rule requireBearer enforces', () => {
    expect(bearerAccepted(undefined, ['', undefined])).toBe(true);
    expect(bearerAccepted(undefined, [], true)).toBe(false);
    expect(bearerAccepted('Bearer two', ['one', 'two'])).toBe(true);
    expect(bearerAccepted('bearer  two ', ['two'])).toBe(true);
    expect(bearerAccepted('Bearer tw', ['two'])).toBe(false);
    expect(bearerAccepted('Basic dHdvOg==', ['two'])).toBe(false);
  });
});

describe('newEtag', () => {
  it('makes quoted strong tags that do not repeat', () => {
    const tags = new Set(Array.from({ length: 1000 }, newEtag));
    expect(tags.size).toBe(1000);
    for (const tag of tags) expect(tag).toMatch(/^"[A-Za-z0-9_-]{16}"$/);
  });
});

describe('iceServerLinks', () => {
  it('writes one link per URL and credentials only when set', () => {
    expect(iceServerLinks([{ urls: ['stun:a', 'stun:b'] }, { urls: 'turn:c', username: 'u' }])).toEqual([
      '<stun:a>; rel="ice-server"',
      '<stun:b>; rel="ice-server"',
      '<turn:c>; rel="ice-server"; username="u"',
    ]);
  });
});
