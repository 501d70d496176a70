/**
 * Sequence arithmetic, the one place it is written down.
 *
 * A sequence is a byte position in the ring's stream; it grows forever and
 * wraps modulo 2^32 (an Int32). Record numbers wrap the same way. Two
 * sequences compare through their signed distance, which is exact as long
 * as they are less than 2^31 apart: a ring is at most 2^30 bytes, so every
 * pair the ring compares (a cursor and the write position, a record and
 * the tail) is.
 */

/** Signed distance from `b` to `a`: positive when `a` is ahead of `b`. */
export const seqDiff = (a: number, b: number): number => (a - b) | 0;

/** `a` moved forward by `n` (wrapping). */
export const seqAdd = (a: number, n: number): number => (a + n) | 0;

/** True when `a` is strictly ahead of `b`. */
export const seqIsAfter = (a: number, b: number): boolean => ((a - b) | 0) > 0;

/** True when `a` is strictly behind `b`. */
export const seqIsBefore = (a: number, b: number): boolean => ((a - b) | 0) < 0;

/** The later of two sequences. */
export const seqMax = (a: number, b: number): number => (((a - b) | 0) > 0 ? a : b);

/** True when a cursor moving from `before` to `after` reached or passed `mark`. */
export const seqCrossed = (before: number, after: number, mark: number): boolean =>
  ((before - mark) | 0) < 0 && ((after - mark) | 0) >= 0;
