/**
 * The werift release every file in this folder was read against. Everything here reaches past
 * werift's documented API (private fields, unexported shapes), so a werift upgrade starts by reading
 * these files against the new source, updating this constant and running `werift-shape.test.ts`,
 * which fails when the pinned version differs from this one or a touched shape has changed.
 */
export const weriftCheckedVersion = '0.25.2';
