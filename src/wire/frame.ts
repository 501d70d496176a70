/**
 * The msgmux frame: several messages in one datagram (coalesced delivery)
 * or in one queue message (packed publishing). Version 1, byte by byte
 * (all integers little-endian):
 *
 *   offset  size  field
 *   0       1     version: 1
 *   1       1     flags: bit 0 = every entry carries a 12-byte message header
 *                 (see header.ts); bits 1-7 are 0 in version 1
 *   2       2     count: messages in the frame, uint16, at least 1
 *   4       ...   count entries, back to back, no padding:
 *                   4 bytes  length L of the message, uint32
 *                   12 bytes message header (only when flag bit 0 is set)
 *                   L bytes  the message
 *
 * The entries end exactly at the end of the frame. A message is never split:
 * one that does not fit the rest of a frame starts the next one, and a
 * message larger than the frame limit travels alone in a frame of its own.
 */
import { ErrorCode, MsgmuxError } from '../errors';
import { MESSAGE_HEADER_BYTES, writeMessageHeader } from './header';

export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 4;
export const ENTRY_LENGTH_BYTES = 4;
export const FLAG_MESSAGE_HEADER = 1;
export const MAX_FRAME_MESSAGES = 0xffff;

/**
 * The largest coalesced datagram: 64 KiB less headroom for the kernel's
 * bookkeeping, well within an AF_UNIX socket's default send buffer (208 KiB).
 * A single message larger than this still travels, alone in its frame.
 */
export const COALESCED_DATAGRAM_MAX = 65536 - 512;

/** The largest datagram a sink receives, for messages up to `maxMessage` bytes: what its receive buffer must hold. */
export function largestDatagram(delivery: { framing: 'plain' | 'coalesced'; header: boolean }, maxMessage: number): number {
  if (delivery.framing === 'plain') return maxMessage + (delivery.header ? MESSAGE_HEADER_BYTES : 0);
  return Math.max(COALESCED_DATAGRAM_MAX, FRAME_HEADER_BYTES + entryBytes(maxMessage, delivery.header));
}

/** Bytes a message of `length` takes in a frame. */
export const entryBytes = (length: number, withHeader: boolean): number =>
  ENTRY_LENGTH_BYTES + (withHeader ? MESSAGE_HEADER_BYTES : 0) + length;

/** Per-message header values for the messages being framed: sequence and stamp of message k. */
export interface HeaderSource {
  sequences: Int32Array;
  stampsMicros: Float64Array;
}

/**
 * Writes frames into one output buffer. `frame()` packs messages
 * `from, from+1, ...` of regions of `source` into a frame at `at`, as many
 * as fit in `limit` bytes (at least one), and returns how many it took;
 * `bytes` is then the frame's size.
 */
export class FrameWriter {
  bytes = 0;
  private readonly view: DataView;

  constructor(readonly out: Uint8Array) {
    this.view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  }

  frame(
    at: number,
    limit: number,
    source: Uint8Array,
    offsets: Int32Array,
    lengths: Int32Array,
    from: number,
    count: number,
    headers: HeaderSource | null,
  ): number {
    let end = at + FRAME_HEADER_BYTES;
    let k = from;
    const last = Math.min(count, from + MAX_FRAME_MESSAGES);
    for (; k < last; k++) {
      if (!this.fits(at, end, limit, lengths[k], headers !== null, k > from)) break;
      end = this.entry(end, source.subarray(offsets[k], offsets[k] + lengths[k]), headers, k);
    }
    return this.finish(at, end, k - from, headers !== null);
  }

  /** Like frame(), for messages given as separate arrays (a publisher packing what it was handed). */
  frameArrays(at: number, limit: number, messages: readonly Uint8Array[], from: number): number {
    let end = at + FRAME_HEADER_BYTES;
    let k = from;
    const last = Math.min(messages.length, from + MAX_FRAME_MESSAGES);
    for (; k < last; k++) {
      if (!this.fits(at, end, limit, messages[k].length, false, k > from)) break;
      end = this.entry(end, messages[k], null, k);
    }
    return this.finish(at, end, k - from, false);
  }

  /** Whether the next entry goes in this frame; the first always does, if the buffer holds it. */
  private fits(at: number, end: number, limit: number, length: number, withHeader: boolean, notFirst: boolean): boolean {
    const size = entryBytes(length, withHeader);
    if (notFirst && end + size - at > limit) return false;
    if (end + size <= this.out.length) return true;
    if (notFirst) return false;
    throw new MsgmuxError(ErrorCode.INVALID_ARGUMENT, `a message of ${length} bytes does not fit the frame buffer (${this.out.length - at} bytes)`);
  }

  private entry(end: number, message: Uint8Array, headers: HeaderSource | null, k: number): number {
    this.view.setUint32(end, message.length, true);
    end += ENTRY_LENGTH_BYTES;
    if (headers !== null) {
      writeMessageHeader(this.view, end, headers.sequences[k], headers.stampsMicros[k]);
      end += MESSAGE_HEADER_BYTES;
    }
    this.out.set(message, end);
    return end + message.length;
  }

  private finish(at: number, end: number, count: number, withHeader: boolean): number {
    this.out[at] = FRAME_VERSION;
    this.out[at + 1] = withHeader ? FLAG_MESSAGE_HEADER : 0;
    this.view.setUint16(at + 2, count, true);
    this.bytes = end - at;
    return count;
  }
}

/** Where the messages of decoded frames lie: message k is bytes [offsets[k], offsets[k] + lengths[k]) of the frame's buffer. */
export class FrameIndex {
  count = 0;
  /** Whether the frames carried message headers (then headerAt[k] is where message k's header starts). */
  withHeader = false;
  offsets: Int32Array;
  lengths: Int32Array;
  headerAt: Int32Array;

  constructor(capacity = 256) {
    this.offsets = new Int32Array(capacity);
    this.lengths = new Int32Array(capacity);
    this.headerAt = new Int32Array(capacity);
  }

  clear(): void {
    this.count = 0;
  }

  push(offset: number, length: number, headerAt: number): void {
    if (this.count === this.offsets.length) this.grow();
    this.offsets[this.count] = offset;
    this.lengths[this.count] = length;
    this.headerAt[this.count] = headerAt;
    this.count++;
  }

  private grow(): void {
    const size = this.offsets.length * 2;
    const widen = (a: Int32Array): Int32Array => {
      const b = new Int32Array(size);
      b.set(a);
      return b;
    };
    this.offsets = widen(this.offsets);
    this.lengths = widen(this.lengths);
    this.headerAt = widen(this.headerAt);
  }
}

const bad = (message: string): never => {
  throw new MsgmuxError(ErrorCode.BAD_FRAME, message);
};

/**
 * Appends the messages of the frame at bytes [start, start + length) of
 * `buffer` to `index` (offsets relative to `buffer`). Throws
 * ERR_MSGMUX_BAD_FRAME, adding nothing, when the bytes are not a version 1 frame.
 */
export function decodeFrame(buffer: Uint8Array, start: number, length: number, index: FrameIndex): number {
  if (length < FRAME_HEADER_BYTES) bad(`a frame is at least ${FRAME_HEADER_BYTES} bytes; got ${length}`);
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const version = buffer[start];
  if (version !== FRAME_VERSION) bad(`frame version ${version} is not supported (this reader reads version ${FRAME_VERSION})`);
  const flags = buffer[start + 1];
  if ((flags & ~FLAG_MESSAGE_HEADER) !== 0) bad(`frame flags 0x${flags.toString(16)} has bits version ${FRAME_VERSION} does not define`);
  const withHeader = (flags & FLAG_MESSAGE_HEADER) !== 0;
  const count = view.getUint16(start + 2, true);
  if (count === 0) bad('a frame holds at least one message; this one says 0');
  const end = start + length;
  const before = index.count;
  let at = start + FRAME_HEADER_BYTES;
  for (let k = 0; k < count; k++) {
    if (end - at < entryBytes(0, withHeader)) {
      index.count = before;
      return bad(`frame ends inside entry ${k} of ${count}`);
    }
    const size = view.getUint32(at, true);
    const headerAt = at + ENTRY_LENGTH_BYTES;
    const body = headerAt + (withHeader ? MESSAGE_HEADER_BYTES : 0);
    if (size > end - body) {
      index.count = before;
      return bad(`entry ${k} of ${count} says ${size} bytes; only ${end - body} are left in the frame`);
    }
    index.push(body, size, withHeader ? headerAt : -1);
    at = body + size;
  }
  if (at !== end) {
    index.count = before;
    bad(`frame has ${end - at} bytes after its ${count} messages`);
  }
  index.withHeader = withHeader;
  return count;
}
