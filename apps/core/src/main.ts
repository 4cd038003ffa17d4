import { serve } from '@hono/node-server';
import { Hono } from 'hono';

// Placeholder server until the process API and WHEP land: it proves the build and start path.
const app = new Hono();
app.get('/ping', (c) => c.text('pong'));

const port = Number(process.env.CORE_ADDRESS?.split(':').pop() || 8080);
const server = serve({ fetch: app.fetch, port }, (info) => {
  process.stdout.write(`${JSON.stringify({ level: 'info', msg: 'listening', port: info.port })}\n`);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => server.close(() => process.exit(0)));
}
