/**
 * Who this server says it is to datarhei clients: the name they require and the API version it
 * answers. The About route reports them; the login signs its tokens with the name as issuer.
 */

/** The `app` datarhei clients require: the Restreamer UI refuses any other (`restreamer.js` `About()`). */
export const appName = 'datarhei-core';

/**
 * The datarhei Core version whose API Dragon answers (the swagger fixture's). The Restreamer UI needs a
 * version within its `^16.11.0`.
 */
export const datarheiVersion = '16.16.0';
