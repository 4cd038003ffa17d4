import { handwrittenOffer, waitFor } from '@dragon/test-helpers';
import { afterEach, describe, expect, it } from 'vitest';
import { RTCPeerConnection, RTCRtpCodecParameters } from 'werift';
import {
  bindingRequest,
  iceCredentials,
  listeningSocket,
  stunTransaction,
} from '../../test/forged-packets.js';
import { installedWeriftVersion } from '../../test/werift-version.js';
import { withoutDefaultStunServer } from './default-stun.js';
import { requireAuthenticatedStun } from './stun-request-guard.js';

// The guard was written against werift 0.25.2's ICE agent: when werift changes, these fail first.

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const offer = handwrittenOffer('audio');

/** A werift answerer on one loopback socket; returns where it listens and its ICE credentials. */
async function answerer(guarded: boolean) {
  const pc = new RTCPeerConnection({
    iceServers: [],
    iceInterfaceAddresses: { udp4: '127.0.0.1' },
    iceAdditionalHostAddresses: ['127.0.0.1'],
    codecs: {
      audio: [new RTCRtpCodecParameters({ mimeType: 'audio/opus', clockRate: 48_000, channels: 2 })],
    },
  });
  cleanups.push(() => pc.close());
  await pc.setRemoteDescription({ type: 'offer', sdp: offer });
  withoutDefaultStunServer(pc);
  if (guarded) requireAuthenticatedStun(pc);
  await pc.setLocalDescription(await pc.createAnswer());
  await waitFor('gathering', () => pc.iceGatheringState === 'complete');
  const answer = pc.localDescription?.sdp ?? '';
  const port = Number(/^a=candidate:\S+ 1 udp \d+ 127\.0\.0\.1 (\d+) typ host/m.exec(answer)?.[1]);
  return { port, credentials: iceCredentials(answer) };
}

/** Sends `requests` then an authenticated one from one socket; returns the transactions answered first. */
async function answeredBeforeControl(port: number, username: string, password: string, requests: Buffer[]) {
  const client = await listeningSocket('127.0.0.1');
  cleanups.push(() => client.socket.close());
  for (const request of requests) client.socket.send(request, port, '127.0.0.1');
  const control = bindingRequest(username, password);
  client.socket.send(control, port, '127.0.0.1');
  const controlId = stunTransaction(control)?.id;
  await waitFor('the authenticated request answered', () =>
    client.received.some((data) => stunTransaction(data)?.id === controlId),
  );
  const answered = client.received.map(stunTransaction).filter((transaction) => transaction?.success);
  return answered.slice(
    0,
    answered.findIndex((transaction) => transaction?.id === controlId),
  ).length;
}

describe('requireAuthenticatedStun (werift 0.25.2)', () => {
  it('is checked against the installed werift', () => {
    expect(installedWeriftVersion()).toBe('0.25.2');
  });

  it('still guards against a werift that answers binding requests without MESSAGE-INTEGRITY', async () => {
    const { port, credentials } = await answerer(false);
    const username = `${credentials.ufrag}:vwxy`;
    // If werift stops answering these, the guard may be obsolete: re-read werift's request handling.
    expect(
      await answeredBeforeControl(port, username, credentials.pwd, [bindingRequest(username, undefined)]),
    ).toBe(1);
  });

  it('answers only requests made with the ICE password and the right USERNAME', async () => {
    const { port, credentials } = await answerer(true);
    const username = `${credentials.ufrag}:vwxy`;
    const unauthenticated = [
      bindingRequest(username, undefined),
      bindingRequest(username, 'a-password-that-is-wrong'),
      bindingRequest(`zzzz:vwxy`, credentials.pwd),
    ];
    expect(await answeredBeforeControl(port, username, credentials.pwd, unauthenticated)).toBe(0);
  });
});
