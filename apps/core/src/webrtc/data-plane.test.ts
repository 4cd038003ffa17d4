import { describe, expect, it } from 'vitest';
import { dataPlanePriorityLine } from './data-plane.js';

const defaults = { nice: 0, controlNice: 0, controlIdle: false };
const unprivileged = { capSysNice: false, rlimitNice: 0 };

describe('dataPlanePriorityLine', () => {
  it('says what allowed the data plane to be raised, at info', () => {
    const line = dataPlanePriorityLine(
      { nice: -10, requested: -10, outcome: 'raised', permission: { capSysNice: true, rlimitNice: 0 } },
      defaults,
    );
    expect(line).toEqual({
      level: 'info',
      message:
        "media data plane at nice -10 (CAP_SYS_NICE), ahead of the rest; FFmpeg and the API run at the server's nice value, 0",
    });
  });

  it('tells the operator how to allow it where the process may not', () => {
    const { level, message } = dataPlanePriorityLine(
      { nice: 0, requested: -10, outcome: 'not-permitted', permission: unprivileged },
      defaults,
    );
    expect(level).toBe('info');
    expect(message).toContain(
      'not -10: this process may not raise a thread (no CAP_SYS_NICE, RLIMIT_NICE 0)',
    );
    expect(message).toContain('LimitNICE=-10');
    expect(message).toContain('--ulimit nice=30:30');
    const limited = dataPlanePriorityLine(
      { nice: -5, requested: -10, outcome: 'limited', permission: { capSysNice: false, rlimitNice: 25 } },
      defaults,
    );
    expect(limited.message).toContain('at nice -5, not -10: RLIMIT_NICE 25 allows no lower');
  });

  it('warns when the operator lowered everything else', () => {
    const raised = { nice: -10, requested: -10, outcome: 'raised' as const };
    const idle = dataPlanePriorityLine(raised, { ...defaults, controlIdle: true });
    expect(idle.level).toBe('warn');
    expect(idle.message).toContain('SCHED_IDLE (webrtc.control_plane_idle)');
    const nice = dataPlanePriorityLine(raised, { ...defaults, controlNice: 10 });
    expect(nice.message).toContain('nice 10 (webrtc.control_plane_nice)');
  });
});
