/**
 * datarhei's `idpattern`/`refpattern` globs: `*` matches any run of characters, `?` one character,
 * everything else itself, and the pattern must cover the whole text.
 *
 * Matching splits the pattern at its stars and places each piece at its leftmost fit: a star never
 * needs to give characters back, because a later piece that fits further right also fits after an
 * earlier placement. The cost is bounded by text length × pattern length — a pattern such as
 * `*a*a*a*b` cannot make it backtrack exponentially, as a translated regular expression did.
 */
export function compileGlob(glob: string): (text: string) => boolean {
  const pieces = glob.split('*');
  if (pieces.length === 1) return (text) => text.length === glob.length && fitsAt(text, 0, glob);
  const head = pieces[0] ?? '';
  const tail = pieces.at(-1) ?? '';
  const middle = pieces.slice(1, -1).filter((piece) => piece !== '');
  return (text) => {
    if (text.length < head.length + tail.length) return false;
    if (!fitsAt(text, 0, head)) return false;
    const tailStart = text.length - tail.length;
    if (!fitsAt(text, tailStart, tail)) return false;
    let position = head.length;
    for (const piece of middle) {
      const found = leftmostFit(text, piece, position, tailStart);
      if (found < 0) return false;
      position = found + piece.length;
    }
    return true;
  };
}

/** Whether `piece` (with `?` as any character) matches `text` at `start`. */
function fitsAt(text: string, start: number, piece: string): boolean {
  for (let index = 0; index < piece.length; index++) {
    const wanted = piece.charCodeAt(index);
    // 63 is '?'
    if (wanted !== 63 && text.charCodeAt(start + index) !== wanted) return false;
  }
  return true;
}

/** The first position in [from, end - piece.length] where `piece` fits, or -1. */
function leftmostFit(text: string, piece: string, from: number, end: number): number {
  for (let start = from; start + piece.length <= end; start++) {
    if (fitsAt(text, start, piece)) return start;
  }
  return -1;
}
