/**
 * Log lines about what peers do wrong, at most a burst per window for each kind of event: a client
 * (or a stranger writing to a shared store) that repeats a fault must not fill the log.
 * @packageDocumentation
 */
export { LogThrottle, type LogThrottleOptions } from './log-throttle.js';
