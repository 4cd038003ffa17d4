import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DeclaredRoutes, errorAnswer, honoPath, jsonAnswer, named, noContent } from './declared-routes.js';

const item = named('Item', z.object({ id: z.string() }));

describe('DeclaredRoutes', () => {
  it('serves each route at the path and method it declares, and lists the declaration', async () => {
    const routes = new DeclaredRoutes().declare(
      {
        method: 'get',
        path: '/items/{id}',
        summary: 'An item',
        responses: { 200: jsonAnswer('The item', item), 404: errorAnswer('No such item') },
      },
      (c) => c.json({ id: c.req.param('id') }),
    );

    const found = await routes.app.request('http://localhost/items/a');
    const otherMethod = await routes.app.request('http://localhost/items/a', { method: 'DELETE' });

    expect(await found.json()).toEqual({ id: 'a' });
    expect(otherMethod.status).toBe(404);
    expect(routes.declarations.map(({ method, path }) => `${method} ${path}`)).toEqual(['get /items/{id}']);
  });

  it('mounts and documents routes under a prefix', async () => {
    const inner = new DeclaredRoutes().declare(
      { method: 'delete', path: '/items/{id}', summary: 'Delete', responses: { 200: noContent('Gone') } },
      (c) => c.body(null, 200),
    );
    const outer = new DeclaredRoutes()
      .mount('/api', inner)
      .document('/api/v2', [{ method: 'get', path: '/x', summary: 'Elsewhere', responses: {} }]);

    const deleted = await outer.app.request('http://localhost/api/items/a', { method: 'DELETE' });

    expect(deleted.status).toBe(200);
    expect(outer.declarations.map(({ path }) => path)).toEqual(['/api/items/{id}', '/api/v2/x']);
  });

  it('matches a path parameter only by its pattern, so a fixed segment beside it stays its own', async () => {
    const session = '[A-Za-z0-9_-]{22}';
    const routes = new DeclaredRoutes()
      .declare(
        {
          method: 'delete',
          path: '/streams/{name}/{sessionId}',
          params: { sessionId: session },
          summary: 'End a session',
          responses: { 200: noContent('Ended') },
        },
        (c) => c.text('session'),
      )
      .declare(
        { method: 'delete', path: '/streams/{name}/viewers', summary: 'Viewers', responses: {} },
        (c) => c.text('viewers'),
      );

    const bySession = await routes.app.request(`http://localhost/streams/cam/${'a'.repeat(22)}`, {
      method: 'DELETE',
    });
    const byName = await routes.app.request('http://localhost/streams/cam/viewers', { method: 'DELETE' });

    expect(await bySession.text()).toBe('session');
    expect(await byName.text()).toBe('viewers');
  });
});

describe('honoPath', () => {
  it("writes parameters as Hono's and a trailing {path} as a wildcard", () => {
    expect(honoPath('/fs/{name}/{path}')).toBe('/fs/:name/*');
    expect(honoPath('/whip/{name}/{sessionId}', { sessionId: '[a-z]{3}' })).toBe(
      '/whip/:name/:sessionId{[a-z]{3}}',
    );
  });
});
