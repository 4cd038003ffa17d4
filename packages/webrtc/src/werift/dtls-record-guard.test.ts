import { describe, expect, it } from 'vitest';
import { DtlsClient } from 'werift';
import { dtlsRecord, forgedRecords } from '../../test/forged-packets.js';
import { installedWeriftVersion } from '../../test/werift-version.js';
import { guardDtlsRecords } from './dtls-record-guard.js';

// The guard was written against werift 0.25.2's DtlsSocket: when werift changes, these fail first.

/** A werift DTLS socket over a stand-in ICE transport, owned by a stand-in `RTCDtlsTransport`. */
function dtlsSocket(options: { guarded: boolean; connected: boolean }) {
  const ice = {
    onData: (_data: Buffer) => undefined as unknown,
    send: async () => undefined,
    close() {},
    address: {},
  };
  const transport: { dtls?: unknown } = {};
  if (options.guarded) guardDtlsRecords({ dtlsTransports: [transport] } as never);
  const socket = new DtlsClient({ transport: ice } as never);
  transport.dtls = socket;
  socket.connected = options.connected;
  let closes = 0;
  socket.onClose.subscribe(() => {
    closes++;
  });
  const handshakes: number[] = [];
  socket.onHandleHandshakes = async (assembled) => {
    handshakes.push(...assembled.map((handshake) => handshake.msg_type));
  };
  return { receive: (data: Buffer) => ice.onData(data), closes: () => closes, handshakes, socket, transport };
}

describe('guardDtlsRecords (werift 0.25.2)', () => {
  it('is checked against the installed werift', () => {
    expect(installedWeriftVersion()).toBe('0.25.2');
  });

  it('still guards against a werift that closes on records nobody authenticated', () => {
    const unguarded = dtlsSocket({ guarded: false, connected: true });
    unguarded.receive(forgedRecords['an unknown content type']!);
    unguarded.receive(forgedRecords['an epoch-1 alert that does not decrypt']!);
    // If werift stops doing this, the guard may be obsolete: re-read werift's record handling.
    expect(unguarded.closes()).toBe(2);
  });

  it('hands werift the socket it created, and discards every forged record once connected', () => {
    const guarded = dtlsSocket({ guarded: true, connected: true });
    expect(guarded.transport.dtls).toBe(guarded.socket);
    for (const record of Object.values(forgedRecords)) guarded.receive(record);
    expect(guarded.closes()).toBe(0);
    expect(guarded.handshakes).toEqual([]);
  });

  it('lets the handshake through before the session is up, and an alert may then end it', () => {
    const guarded = dtlsSocket({ guarded: true, connected: false });
    guarded.receive(forgedRecords['a plaintext HelloVerifyRequest']!);
    expect(guarded.handshakes).toEqual([3]);
    guarded.receive(forgedRecords['an unknown content type']!);
    expect(guarded.closes()).toBe(0);
    guarded.receive(forgedRecords['a plaintext close_notify']!);
    expect(guarded.closes()).toBe(1);
  });

  it('keeps the valid records of a datagram that also carries an invalid one', () => {
    const guarded = dtlsSocket({ guarded: true, connected: false });
    const hello = forgedRecords['a plaintext HelloVerifyRequest']!;
    guarded.receive(Buffer.concat([dtlsRecord(99, 0, 1, Buffer.alloc(0)), hello, hello.subarray(0, 20)]));
    expect(guarded.handshakes).toEqual([3]);
    expect(guarded.closes()).toBe(0);
  });
});
