import { handwrittenOffer, waitFor } from '@dragon/test-helpers';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import { installedWeriftVersion } from '../../test/werift-version.js';
import { paceConnectivityChecks } from './check-pacing.js';
import { withoutDefaultStunServer } from './default-stun.js';

// The pacing was written against werift 0.25.2's ICE agent: when werift changes, these fail first.

afterEach(() => {
  vi.restoreAllMocks();
});

const offer = handwrittenOffer('audio', ['a=candidate:1 1 udp 2122260223 127.0.0.1 9999 typ host']);

describe('paceConnectivityChecks (werift 0.25.2)', () => {
  it('is checked against the installed werift', () => {
    expect(installedWeriftVersion()).toBe('0.25.2');
  });

  it("sits where werift's ICE agent schedules its checks", async () => {
    const pc = new RTCPeerConnection({
      iceServers: [],
      iceInterfaceAddresses: { udp4: '127.0.0.1' },
      codecs: {
        audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2 })],
      },
    });
    try {
      await pc.setRemoteDescription({ type: 'offer', sdp: offer });
      withoutDefaultStunServer(pc);
      paceConnectivityChecks(pc);
      const agent = pc.iceTransports[0]!.connection as unknown as { schedulingChecks(): boolean };
      let calls = 0;
      const paced = agent.schedulingChecks;
      agent.schedulingChecks = function (this: unknown) {
        calls++;
        return paced.call(this);
      };
      await pc.setLocalDescription(await pc.createAnswer());
      // werift's connect loop polls the scheduler while checks remain.
      await waitFor('werift polling the paced scheduler', () => calls >= 3);
    } finally {
      await pc.close();
    }
  });

  it('starts at most one ordinary check per 50 ms, however often werift asks', () => {
    let now = 1000;
    vi.spyOn(performance, 'now').mockImplementation(() => now);
    let started = 0;
    const agent = {
      schedulingChecks: () => {
        started++;
        return true;
      },
    };
    paceConnectivityChecks({ iceTransports: [{ connection: agent }] } as never);
    for (let tick = 0; tick < 50; tick++) {
      expect(agent.schedulingChecks()).toBe(true);
      now += 20; // werift's loop interval
    }
    // 50 polls over 1 s: one check every third poll (60 ms), never two within 50 ms.
    expect(started).toBe(17);
  });
});
