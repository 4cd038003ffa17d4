import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { PacketHistory } from './packet-history.js';

function packet(sequenceNumber: number, size = 100, fill = sequenceNumber & 0xff): Buffer {
  const bytes = Buffer.alloc(size, fill);
  bytes[0] = 0x80;
  bytes.writeUInt16BE(sequenceNumber & 0xffff, 2);
  return bytes;
}

function append(history: PacketHistory, sequenceNumber: number, size = 100, keyframe = false): number {
  const ext = history.extend(sequenceNumber & 0xffff);
  history.append(packet(sequenceNumber, size), ext, sequenceNumber * 3000, 1000 + sequenceNumber, keyframe);
  return ext;
}

describe('PacketHistory', () => {
  it('returns a kept packet by its extended sequence number, byte for byte', () => {
    const history = PacketHistory.create({ entries: 64, bytes: 64 * 200, shared: false });
    const into = Buffer.alloc(1500);

    const ext = append(history, 1234, 321);

    expect(ext).toBe(1234);
    expect(history.head).toBe(1234);
    expect(history.read(1234, into)).toBe(321);
    expect(into.subarray(0, 321).equals(packet(1234, 321))).toBe(true);
    expect(history.read(1233, into)).toBe(0);
  });

  it('counts sequence numbers on across the 16-bit wrap, and finds NACKed ones before the newest', () => {
    const history = PacketHistory.create({ entries: 64, bytes: 64 * 200, shared: false });
    const exts = [65_533, 65_534, 65_535, 0, 1, 2].map((sequenceNumber) => append(history, sequenceNumber));

    expect(exts).toEqual([65_533, 65_534, 65_535, 65_536, 65_537, 65_538]);
    expect(PacketHistory.before(history.head, 65_534)).toBe(65_534);
    expect(PacketHistory.before(history.head, 1)).toBe(65_537);
    expect(history.read(PacketHistory.before(history.head, 65_535), Buffer.alloc(200))).toBe(100);
  });

  it('forgets packets once their entry is reused or their bytes are overwritten', () => {
    const byEntries = PacketHistory.create({ entries: 16, bytes: 16 * 1000, shared: false });
    for (let sequenceNumber = 0; sequenceNumber < 20; sequenceNumber++) append(byEntries, sequenceNumber);
    const byBytes = PacketHistory.create({ entries: 64, bytes: 1000, shared: false });
    for (let sequenceNumber = 0; sequenceNumber < 20; sequenceNumber++) append(byBytes, sequenceNumber, 300);
    const into = Buffer.alloc(1500);

    expect(byEntries.read(3, into)).toBe(0);
    expect(byEntries.read(4, into)).toBe(100);
    // 1000 bytes hold three 300-byte packets (a packet never wraps around the end of the ring).
    expect(byBytes.read(16, into)).toBe(0);
    expect([17, 18, 19].map((ext) => byBytes.read(ext, into))).toEqual([300, 300, 300]);
    expect(into.subarray(0, 300).equals(packet(19, 300))).toBe(true);
  });

  it('remembers where the newest keyframe starts until told to forget it', () => {
    const history = PacketHistory.create({ entries: 64, bytes: 64 * 200, shared: false });
    append(history, 10);
    expect(history.keyframe).toBe(-1);

    append(history, 11, 100, true);
    append(history, 12);
    expect(history.keyframe).toBe(11);

    history.forgetKeyframe();
    expect(history.keyframe).toBe(-1);
  });

  it('gives the newest packet RTP timestamp and arrival time together (the Sender Report clock)', () => {
    const history = PacketHistory.create({ entries: 64, bytes: 64 * 200, shared: false });
    expect(history.clock()).toBeUndefined();

    append(history, 7);

    expect(history.clock()).toEqual({ rtpTimestamp: 21_000, arrivalMs: 1007 });
  });

  it('wakes a thread waiting on it at every append, and is readable from a view of the same memory', async () => {
    const history = PacketHistory.create({ entries: 256, bytes: 256 * 200, shared: true });
    // The worker sleeps on the publish counter until three appends have been published: if appends
    // did not notify, it would never answer.
    const worker = new Worker(
      `
      const { parentPort, workerData } = require('node:worker_threads');
      const words = new Int32Array(workerData, 0, 1);
      let seen = Atomics.load(words, 0);
      while (seen < 3) {
        Atomics.wait(words, 0, seen);
        seen = Atomics.load(words, 0);
      }
      parentPort.postMessage(seen);
      `,
      { eval: true, workerData: history.buffer },
    );
    const published = new Promise<number>((resolve) => worker.once('message', resolve));
    await new Promise((resolve) => worker.once('online', resolve));

    for (let sequenceNumber = 0; sequenceNumber < 3; sequenceNumber++) append(history, sequenceNumber);

    expect(await published).toBe(3);
    await worker.terminate();
    const attached = PacketHistory.attach(history.buffer);
    expect(attached.head).toBe(2);
    expect(attached.read(1, Buffer.alloc(200))).toBe(100);
  });
});
