// A capture time written into a picture's pixels and read back where the picture is shown: what
// glass-to-glass latency is measured with. The sender (FFmpeg's `geq`, or a canvas) draws the
// wall clock in milliseconds, modulo 2^24, as a band of black and white cells at the top of the
// frame: one row with the bits, the row below with the same bits inverted. A reader takes the mean
// of each cell's centre and needs every bit's two cells to disagree by a clear margin, so a frame
// blurred by the encoder still reads and a torn or half-updated one is refused rather than misread.

/** Where the stamp is drawn; the same numbers on both sides. */
export interface StampLayout {
  /** Bits of the stamp: milliseconds modulo 2^bits (24: 4.6 hours, ample for any delay). */
  bits: number;
  /** Width of a bit's cell, pixels. */
  cell: number;
  /** Left edge of the first (least significant) bit's cell. */
  left: number;
  /** Height of each of the two rows (the bits, then the bits inverted). */
  row: number;
}

/** 24 cells of 24 × 32 pixels from x = 32: fits a 640-pixel-wide picture with a margin each side. */
export const stampLayout: StampLayout = { bits: 24, cell: 24, left: 32, row: 32 };

/** Luma of a white and a black cell (video range, as x264 is fed). */
const white = 235;
const black = 16;

/**
 * The FFmpeg filter chain (for `-vf`) that stamps each frame with the wall clock at the moment it
 * passes, for a picture at least `width` wide: the frame's timestamp becomes the real-time clock
 * (`setpts=RTCTIME`, microseconds), `geq` draws the band from it (`T` is then the wall clock in
 * seconds), and the timestamps go back to a steady `fps` for the encoder. `clock` replaces
 * `RTCTIME` with a fixed time in microseconds (a deterministic frame, for tests).
 * @example ffmpeg -re -f lavfi -i testsrc2=size=640x360:rate=30 -vf "$(stampFilter({ fps: 30 }))" …
 */
export function stampFilter(options: { fps: number; width?: number; clock?: number }): string {
  const { bits, cell, left, row } = stampLayout;
  const width = options.width ?? 640;
  const clock = options.clock === undefined ? 'RTCTIME' : String(options.clock);
  const value = `mod(floor(T*1000),${2 ** bits})`;
  const bit = `mod(floor(${value}/pow(2,floor((X-${left})/${cell}))),2)`;
  const inBand = `between(X,${left},${left + bits * cell - 1})`;
  const luma = `if(${inBand},${black}+${white - black}*if(lt(Y,${row}),${bit},1-${bit}),${black})`;
  return [
    `settb=AVTB,setpts=${clock},split[stamp_main][stamp_band]`,
    `[stamp_band]crop=${width}:${2 * row}:0:0,geq=lum='${luma}':cb=128:cr=128[stamp_bars]`,
    `[stamp_main][stamp_bars]overlay=0:0,setpts=N/(${options.fps}*TB)`,
  ].join(';');
}

/**
 * Draws the stamp of `ms` (a wall-clock time in milliseconds) on a 2D canvas context, in a page.
 * Self-contained, so a page can be given its source (`drawStamp.toString()`).
 */
export function drawStamp(
  context: { fillStyle: unknown; fillRect(x: number, y: number, w: number, h: number): void },
  ms: number,
  layout: StampLayout,
): void {
  const value = Math.floor(ms) % 2 ** layout.bits;
  context.fillStyle = '#000';
  context.fillRect(0, 0, layout.left * 2 + layout.bits * layout.cell, layout.row * 2);
  context.fillStyle = '#fff';
  for (let bit = 0; bit < layout.bits; bit++) {
    const one = Math.floor(value / 2 ** bit) % 2 === 1;
    context.fillRect(layout.left + bit * layout.cell, one ? 0 : layout.row, layout.cell, layout.row);
  }
}

/**
 * Reads the stamp from the top of a picture's RGBA pixels (`ImageData.data`, `width` pixels a
 * row, at least `2 × layout.row` rows): the stamp's value, or -1 when any bit is unclear (its two
 * cells differ by less than a third of black to white). Self-contained, so a page can be given
 * its source (`decodeStamp.toString()`).
 */
export function decodeStamp(rgba: ArrayLike<number>, width: number, layout: StampLayout): number {
  // The centre half of each cell: edges are where the encoder's blur and chroma bleed sit.
  const inset = { x: Math.floor(layout.cell / 4), y: Math.floor(layout.row / 4) };
  const mean = (x0: number, y0: number) => {
    let sum = 0;
    let count = 0;
    for (let y = y0 + inset.y; y < y0 + layout.row - inset.y; y++) {
      for (let x = x0 + inset.x; x < x0 + layout.cell - inset.x; x++) {
        const at = (y * width + x) * 4;
        // Luma from RGB (BT.601), enough to tell black from white.
        sum += 0.299 * (rgba[at] ?? 0) + 0.587 * (rgba[at + 1] ?? 0) + 0.114 * (rgba[at + 2] ?? 0);
        count++;
      }
    }
    return sum / count;
  };
  let value = 0;
  for (let bit = 0; bit < layout.bits; bit++) {
    const x = layout.left + bit * layout.cell;
    const difference = mean(x, 0) - mean(x, layout.row);
    if (Math.abs(difference) < 255 / 3) return -1;
    if (difference > 0) value += 2 ** bit;
  }
  return value;
}

/**
 * The full wall-clock time (ms) of a stamp read at `nowMs`: the latest time not after `nowMs`
 * (plus a second of slack for clocks read a little apart) whose low bits are `value`.
 */
export function unwrapStamp(value: number, nowMs: number, layout: StampLayout = stampLayout): number {
  const period = 2 ** layout.bits;
  const ahead = nowMs + 1000;
  return ahead - ((((ahead - value) % period) + period) % period);
}
