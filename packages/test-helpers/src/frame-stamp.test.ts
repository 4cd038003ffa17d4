import { describe, expect, it } from 'vitest';
import { decodeStamp, drawStamp, stampLayout, unwrapStamp } from './frame-stamp.js';

const width = 640;
const height = 2 * stampLayout.row;

/** A 2D context over an RGBA buffer: enough of a canvas for `drawStamp` (solid black or white). */
function rgbaCanvas() {
  const data = new Uint8ClampedArray(width * height * 4).fill(128);
  const context = {
    fillStyle: '#000' as unknown,
    fillRect(x: number, y: number, w: number, h: number) {
      const level = context.fillStyle === '#fff' ? 255 : 0;
      for (let row = y; row < Math.min(y + h, height); row++)
        for (let column = x; column < Math.min(x + w, width); column++)
          data.fill(level, (row * width + column) * 4, (row * width + column) * 4 + 3);
    },
  };
  return { data, context };
}

/** A deterministic pseudo-random sequence (a linear congruential generator). */
function noise(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('the frame stamp', () => {
  it('reads back every value it draws, low bits and high bits alike', () => {
    for (const ms of [
      0,
      1,
      2 ** 24 - 1,
      1_765_000_000_123,
      1_765_000_000_123 + 2 ** 23,
      0xaaaaaa,
      0x555555,
    ]) {
      const { data, context } = rgbaCanvas();
      drawStamp(context, ms, stampLayout);
      expect(decodeStamp(data, width, stampLayout)).toBe(ms % 2 ** 24);
    }
  });

  it('still reads through the noise and dimming a lossy encoder adds', () => {
    const random = noise(7);
    const { data, context } = rgbaCanvas();
    drawStamp(context, 1_765_000_000_123, stampLayout);
    // Black at up to 60, white down to 195, every pixel disturbed by up to ±40.
    for (let at = 0; at < data.length; at += 4)
      for (let channel = 0; channel < 3; channel++) {
        const level = data[at + channel]! > 128 ? 195 : 60;
        data[at + channel] = level + (random() - 0.5) * 80;
      }
    expect(decodeStamp(data, width, stampLayout)).toBe(1_765_000_000_123 % 2 ** 24);
  });

  it('refuses a frame without a stamp and a torn one rather than misread it', () => {
    const blank = rgbaCanvas();
    expect(decodeStamp(blank.data, width, stampLayout)).toBe(-1);

    // The bits row of one time over the inverted row of the next: where the two differ, both
    // cells of a bit agree, so the frame is refused.
    const first = rgbaCanvas();
    drawStamp(first.context, 1000, stampLayout);
    const second = rgbaCanvas();
    drawStamp(second.context, 1001, stampLayout);
    const torn = new Uint8ClampedArray(first.data);
    torn.set(second.data.subarray(width * stampLayout.row * 4), width * stampLayout.row * 4);
    expect(decodeStamp(torn, width, stampLayout)).toBe(-1);
  });

  it('unwraps a stamp to the latest wall-clock time it can be, allowing clocks a second apart', () => {
    const now = 1_765_000_000_123;
    const period = 2 ** 24;
    expect(unwrapStamp((now - 40) % period, now)).toBe(now - 40);
    // A stamp a little ahead of the reader's clock (read apart) is not taken for 4.6 hours ago.
    expect(unwrapStamp((now + 5) % period, now)).toBe(now + 5);
    expect(unwrapStamp((now - 3000) % period, now)).toBe(now - 3000);
  });
});
