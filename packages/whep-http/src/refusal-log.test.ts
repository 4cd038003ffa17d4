import { describe, expect, it } from 'vitest';
import { ProcessNotFoundError, ViewerLimitError } from './errors.js';
import { RefusalLog } from './refusal-log.js';

describe('RefusalLog', () => {
  it('logs the first refusal of a code, holds back the rest of the interval, and counts them in the next line', () => {
    let now = 0;
    const lines: object[] = [];
    const push = (line: object) => lines.push(line);
    const log = new RefusalLog({ debug() {}, info: push, warn: push, error: push }, 10_000, () => now);

    for (let i = 0; i < 5; i++) log.refused('cam', new ProcessNotFoundError('cam'));
    log.refused('cam', new ViewerLimitError('server', 100, 5));
    now += 10_000;
    log.refused('cam', new ProcessNotFoundError('cam'));

    expect(lines).toEqual([
      expect.objectContaining({ code: 'PROCESS_NOT_FOUND', status: 404 }),
      expect.objectContaining({ code: 'VIEWER_LIMIT_REACHED', status: 503 }),
      expect.objectContaining({ code: 'PROCESS_NOT_FOUND', heldBack: 4 }),
    ]);
  });
});
