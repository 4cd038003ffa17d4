import { expect, it } from 'vitest';
import { KeyedLock } from './keyed-lock.js';

const tick = () => new Promise((resolve) => setImmediate(resolve));

it('runs tasks of one key one after another and of other keys side by side', async () => {
  const lock = new KeyedLock();
  const events: string[] = [];
  let releaseFirst!: () => void;
  const first = lock.run(['a'], async () => {
    events.push('a1 start');
    await new Promise<void>((resolve) => {
      releaseFirst = resolve;
    });
    events.push('a1 end');
  });
  const second = lock.run(['a'], async () => void events.push('a2'));
  const other = lock.run(['b'], async () => void events.push('b'));
  await other;
  await tick();
  expect(events).toEqual(['a1 start', 'b']);
  releaseFirst();
  await Promise.all([first, second]);
  expect(events).toEqual(['a1 start', 'b', 'a1 end', 'a2']);
});

it('makes a task holding two keys wait for both and blocks both while it runs', async () => {
  const lock = new KeyedLock();
  const events: string[] = [];
  let releaseA!: () => void;
  const holdA = lock.run(['a'], async () => {
    await new Promise<void>((resolve) => {
      releaseA = resolve;
    });
    events.push('a');
  });
  const rename = lock.run(['a', 'b'], async () => void events.push('a+b'));
  const laterB = lock.run(['b'], async () => void events.push('b'));
  await tick();
  expect(events).toEqual([]);
  releaseA();
  await Promise.all([holdA, rename, laterB]);
  expect(events).toEqual(['a', 'a+b', 'b']);
});

it('releases the key when a task throws', async () => {
  const lock = new KeyedLock();
  await expect(lock.run(['a'], async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  await expect(lock.run(['a'], async () => 'next')).resolves.toBe('next');
});
