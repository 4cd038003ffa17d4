/** What `waitFor` polls: a value when the condition holds; `undefined` or `false` while it does not. */
export type Condition<T> = () => T | undefined | false | Promise<T | undefined | false>;

/**
 * Polls `check` until it returns a value other than `undefined`/`false`, and resolves with it. A
 * `check` that throws counts as "not yet" (a server restarting refuses connections for a moment);
 * the last error is part of the timeout message. The deadline is generous on purpose: tests run on
 * a busy two-core machine, and a test waits for a condition, never for a time.
 *
 * @example await waitFor('viewer count 0', async () => ((await viewers()) === 0 ? true : undefined));
 * @throws Error `timed out waiting for <what>` after `timeoutMs`.
 */
export async function waitFor<T>(what: string, check: Condition<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`timed out waiting for ${what}${lastError === undefined ? '' : `: ${String(lastError)}`}`);
}
