/**
 * datarhei's RTMP naming: the stream path is the app plus the stream name (`/live/foo`); the token is
 * the `token` query parameter or, failing that, the last path element (`/live/foo/TOKEN`).
 */
export function streamPath(app: string, name: string): string {
  const segments = `${app}/${name}`.split('/').filter((segment) => segment !== '');
  return `/${segments.join('/')}`;
}

export function splitToken(path: string, query: Record<string, unknown>): { path: string; token: string } {
  const fromQuery = query.token;
  if (typeof fromQuery === 'string' && fromQuery !== '') return { path, token: fromQuery };
  const at = path.lastIndexOf('/');
  if (at <= 0) return { path, token: path.slice(at + 1) };
  return { path: path.slice(0, at), token: path.slice(at + 1) };
}

/** datarhei's reference of a stream: its name without app and extension (`/live/foo.stream` → `foo`). */
export function streamReference(path: string, app: string): string {
  const prefix = app === '/' ? '/' : `${app}/`;
  const withoutApp = path.startsWith(prefix) ? path.slice(prefix.length) : path.replace(/^\//, '');
  return withoutApp.replace(/\.[^./]*$/, '');
}
