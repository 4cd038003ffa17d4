/**
 * One error body for every HTTP surface: datarhei Core's `{code, message, details}`.
 * Routes throw {@link HttpError}; the app renders every failure with {@link errorResponse} in its
 * one `onError`.
 * @packageDocumentation
 */
export { type ErrorBody, errorBody, errorBodySchema } from './error-body.js';
export { errorResponse } from './error-response.js';
export { CodedHttpError, HttpError, type HttpErrorOptions } from './errors.js';
