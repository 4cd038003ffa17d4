import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { errorBodySchema } from './error-body.js';
import { errorResponse } from './error-response.js';
import { CodedHttpError, HttpError } from './errors.js';

/** An app whose one route throws `error`, rendered by `errorResponse`. */
function failingWith(error: unknown): Hono {
  const app = new Hono();
  app.onError(errorResponse);
  app.get('/thing', () => {
    throw error;
  });
  return app;
}

const get = (error: unknown) => failingWith(error).request('http://localhost/thing');

describe('errorResponse', () => {
  it('answers a CodedHttpError with its string code leading the details', async () => {
    class ProcessNotFoundError extends CodedHttpError<'PROCESS_NOT_FOUND'> {
      override readonly name = 'ProcessNotFoundError';
      constructor(readonly processId: string) {
        super(404, 'PROCESS_NOT_FOUND', 'Process not found', { details: [processId] });
      }
    }
    const error = new ProcessNotFoundError('cam');
    const res = await get(error);

    expect(error.code).toBe('PROCESS_NOT_FOUND');
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      code: 404,
      message: 'Process not found',
      details: ['PROCESS_NOT_FOUND', 'cam'],
    });
  });

  it('answers an HttpError with its status, code, details and headers', async () => {
    const res = await get(
      new HttpError(429, 'Too Many Requests', ['too many login attempts'], {
        code: 'RATE_LIMITED',
        headers: { 'Retry-After': '30' },
      }),
    );

    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({
      code: 429,
      message: 'Too Many Requests',
      details: ['RATE_LIMITED', 'too many login attempts'],
    });
  });

  it('answers an HttpError without a code with its details alone', async () => {
    const res = await get(
      new HttpError(418, 'A teapot', ['short and stout'], { headers: { 'X-Kind': 'teapot' } }),
    );

    expect(res.status).toBe(418);
    expect(res.headers.get('x-kind')).toBe('teapot');
    expect(await res.json()).toEqual({ code: 418, message: 'A teapot', details: ['short and stout'] });
  });

  it("keeps an HttpError's cause out of the answer", async () => {
    const cause = new Error('EACCES: permission denied, open /var/lib/secret');
    const res = await get(new HttpError(500, 'Write failed', [], { code: 'FS_WRITE_FAILED', cause }));
    const text = await res.text();

    expect(JSON.parse(text)).toEqual({ code: 500, message: 'Write failed', details: ['FS_WRITE_FAILED'] });
    expect(text).not.toContain('EACCES');
  });

  it("answers another package's HTTPException with its code, details and the headers of its res", async () => {
    const error = Object.assign(
      new HTTPException(503, {
        message: 'Busy',
        res: new Response('ignored', { headers: { 'Retry-After': '5', 'Content-Type': 'text/plain' } }),
      }),
      { code: 'BUSY', details: ['try later'] },
    );
    const res = await get(error);

    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await res.json()).toEqual({ code: 503, message: 'Busy', details: ['BUSY', 'try later'] });
  });

  it('names an HTTPException without a message "Error"', async () => {
    const res = await get(new HTTPException(413));

    expect(await res.json()).toEqual({ code: 413, message: 'Error', details: [] });
  });

  it('answers a ZodError with 400 and one line per issue', async () => {
    const parsed = z.object({ port: z.number() }).safeParse({ port: 'x' });
    const res = await get(parsed.error);
    const body = errorBodySchema.parse(await res.json());

    expect(res.status).toBe(400);
    expect(body.message).toBe('Invalid request');
    expect(body.details).toHaveLength(1);
    expect(body.details[0]).toMatch(/^port: /);
  });

  it("keeps any other exception's text out of the answer", async () => {
    const res = await get(new TypeError("Cannot read properties of undefined (reading 'kind')"));
    const text = await res.text();

    expect(res.status).toBe(500);
    expect(JSON.parse(text)).toEqual({ code: 500, message: 'Internal server error', details: [] });
    expect(text).not.toContain('kind');
  });
});

describe('HttpError', () => {
  it("answers the same through Hono's default handler, for an app without onError", async () => {
    const app = new Hono();
    app.get('/thing', () => {
      throw new HttpError(401, 'Unauthorized', [], { headers: { 'WWW-Authenticate': 'Bearer' } });
    });
    const res = await app.request('http://localhost/thing');

    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    expect(await res.json()).toEqual({ code: 401, message: 'Unauthorized', details: [] });
  });

  it('is an HTTPException with its fields', () => {
    const error = new HttpError(404, 'Process not found', ['cam'], { code: 'PROCESS_NOT_FOUND' });

    expect(error).toBeInstanceOf(HTTPException);
    expect(error.name).toBe('HttpError');
    expect(error).toMatchObject({ status: 404, code: 'PROCESS_NOT_FOUND', details: ['cam'] });
    expect(error.body()).toEqual({
      code: 404,
      message: 'Process not found',
      details: ['PROCESS_NOT_FOUND', 'cam'],
    });
  });

  it("answers a package's typed error with its message and details, from its status", async () => {
    class StoreFullError extends Error {
      readonly details = ['the store holds 100 processes'];
    }
    const error = HttpError.from(new StoreFullError('The process store is full'), 507);
    const res = await get(error);

    expect(error.cause).toBeInstanceOf(StoreFullError);
    expect(res.status).toBe(507);
    expect(await res.json()).toEqual({
      code: 507,
      message: 'The process store is full',
      details: ['the store holds 100 processes'],
    });
  });
});
