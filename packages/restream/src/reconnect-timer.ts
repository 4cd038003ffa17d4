/** Failed starts back off from the reconnect delay (at least 1 s), doubling, up to this. */
const maxStartBackoffMs = 60_000;

/**
 * When a process comes back by itself. After an exit FFmpeg gets datarhei's plain
 * `reconnect_delay_seconds`; a start that failed before FFmpeg ran (it cannot spawn, the hook
 * throws) fails at once every time, so consecutive failed starts back off — without that a
 * reconnect delay of 0 would spin.
 */
export class ReconnectTimer {
  #timer: NodeJS.Timeout | undefined;
  #at: number | undefined;
  #failedStarts = 0;

  /** When the armed timer fires (ms since the epoch), if one is armed. */
  get at(): number | undefined {
    return this.#at;
  }

  startSucceeded(): void {
    this.#failedStarts = 0;
  }

  startFailed(): void {
    this.#failedStarts++;
  }

  arm(delaySeconds: number, afterFailedStart: boolean, fire: () => void): void {
    this.cancel();
    const delayMs = delaySeconds * 1000;
    const floor = Math.max(delayMs, 1000);
    const wait = afterFailedStart
      ? Math.min(floor * 2 ** Math.max(0, this.#failedStarts - 1), Math.max(floor, maxStartBackoffMs))
      : delayMs;
    this.#at = Date.now() + wait;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#at = undefined;
      fire();
    }, wait);
  }

  cancel(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#at = undefined;
  }
}
