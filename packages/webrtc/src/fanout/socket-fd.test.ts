import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNativeAddon } from './native-addon.js';
import { socketFd } from './socket-fd.js';
import { SrtpProfile } from './srtp.js';

const sockets: Socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) socket.close();
});

async function bound(): Promise<Socket> {
  const socket = createSocket('udp4');
  sockets.push(socket);
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

describe('socketFd (Node internals)', () => {
  it('finds the descriptor of a bound dgram socket: what is sent through it comes from its port', async () => {
    const loaded = loadNativeAddon();
    if ('error' in loaded) throw new Error(loaded.error);
    const addon = loaded.addon;
    const [ours, receiver] = [await bound(), await bound()];
    const arrived = new Promise<RemoteInfo>((resolve) =>
      receiver.once('message', (_data, remote) => resolve(remote)),
    );

    const fd = socketFd(ours);
    expect(fd).toBeTypeOf('number');
    const copy = addon.dup(fd!);
    const stream = addon.createStream(
      SrtpProfile.aeadAes128Gcm,
      Buffer.alloc(16, 1),
      Buffer.alloc(14, 2),
      null,
      1,
      96,
    );
    addon.setTarget(stream, copy, '127.0.0.1', receiver.address().port, 4);
    const packet = Buffer.concat([Buffer.from([0x80, 96, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]), Buffer.alloc(20)]);
    expect(addon.send(stream, packet, 1)).toBe(1);
    addon.close(copy);

    expect((await arrived).port).toBe(ours.address().port);
  });

  it('says undefined once the socket is closed', async () => {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    expect(socketFd(socket)).toBeTypeOf('number');

    socket.close();

    expect(socketFd(socket)).toBeUndefined();
  });
});
