import { describe, expect, it } from 'vitest';
import { raisePlan } from './thread-priority.js';

describe('raisePlan', () => {
  const unprivileged = { capSysNice: false, rlimitNice: 0 };

  it('sets the nice value asked for with CAP_SYS_NICE', () => {
    expect(raisePlan(0, -10, { capSysNice: true, rlimitNice: 0 })).toEqual({ target: -10 });
  });

  it('goes no lower than RLIMIT_NICE allows without the capability (floor 20 - limit)', () => {
    expect(raisePlan(0, -10, { capSysNice: false, rlimitNice: 25 })).toEqual({ target: -5 });
    expect(raisePlan(0, -10, { capSysNice: false, rlimitNice: 30 })).toEqual({ target: -10 });
    expect(raisePlan(0, -10, { capSysNice: false, rlimitNice: 40 })).toEqual({ target: -10 });
  });

  it('cannot raise without the capability and with RLIMIT_NICE at its usual 0', () => {
    expect(raisePlan(0, -10, unprivileged)).toEqual({ outcome: 'not-permitted' });
    // A thread at nice 5 comes back to 0 only where RLIMIT_NICE allows 0 (a limit of 20).
    expect(raisePlan(5, -10, unprivileged)).toEqual({ outcome: 'not-permitted' });
    expect(raisePlan(5, -10, { capSysNice: false, rlimitNice: 20 })).toEqual({ target: 0 });
  });

  it('leaves threads alone that already run at the value or lower, and when asked for none', () => {
    expect(raisePlan(-15, -10, unprivileged)).toEqual({ outcome: 'already' });
    expect(raisePlan(0, 0, { capSysNice: true, rlimitNice: 0 })).toEqual({ outcome: 'off' });
  });
});
