/**
 * The optional per-message header a sink may ask for (`"header": true`), so
 * that it detects gaps and measures age by itself:
 *
 *   offset  size  field
 *   0       4     sequence: the message's record number in the daemon's ring, uint32 LE,
 *                 consecutive for consecutive messages, wrapping at 2^32
 *   4       8     stamp: when ingest took the message off the queue, microseconds since
 *                 the Unix epoch (CLOCK_REALTIME), uint64 LE
 *
 * A sink that sees sequence s after s' (s - s' mod 2^32 > 1) lost the messages in between.
 */

export const MESSAGE_HEADER_BYTES = 12;

const TWO_32 = 2 ** 32;

/** Microseconds since the Unix epoch, as a double (exact: below 2^53 until year 2255). */
export function nowMicros(): number {
  return Math.floor((performance.timeOrigin + performance.now()) * 1000);
}

export function writeMessageHeader(view: DataView, at: number, sequence: number, stampMicros: number): void {
  view.setUint32(at, sequence >>> 0, true);
  const high = Math.floor(stampMicros / TWO_32);
  view.setUint32(at + 4, stampMicros - high * TWO_32, true);
  view.setUint32(at + 8, high, true);
}

export function readSequence(view: DataView, at: number): number {
  return view.getUint32(at, true);
}

export function readStampMicros(view: DataView, at: number): number {
  return view.getUint32(at + 4, true) + view.getUint32(at + 8, true) * TWO_32;
}

/** Messages missing between `previous` and `next` (uint32 sequences; 0 when consecutive). */
export function sequenceGap(previous: number, next: number): number {
  return ((next - previous - 1) >>> 0);
}
