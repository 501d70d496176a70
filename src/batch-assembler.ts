/**
 * The receiving side of a sink: turns the datagrams of one recvmmsg into one
 * MessageBatchData — the bytes copied once, compactly, into a buffer of their
 * own (transferable to another thread), and where each message lies in it.
 * Plain datagrams are one message each (after a 12-byte header when asked
 * for); coalesced ones are msgmux frames (src/wire/frame.ts).
 */
import type { SinkFraming } from './sink/spec';
import type { MessageBatchData } from './message-batch';
import { decodeFrame, FrameIndex, MESSAGE_HEADER_BYTES } from './wire';

export interface Assembled {
  batch: MessageBatchData;
  /** Messages longer than the largest message expected, cut to it. */
  truncated: number;
  /** Coalesced datagrams that were not frames (or were cut): dropped whole. */
  badFrames: number;
}

export class BatchAssembler {
  private readonly index = new FrameIndex(1024);

  constructor(
    private readonly framing: SinkFraming,
    private readonly header: boolean,
    /** Largest plain datagram kept whole. */
    private readonly maxDatagram: number,
    /** Longer messages in a frame are cut to this and counted as truncated, as plain datagrams are. */
    private readonly maxMessage: number,
  ) {}

  /** Datagram k of `n` is at slots[k * slotSize], lengths[k] its real size (larger than slotSize: cut). */
  assemble(slots: Uint8Array, slotSize: number, lengths: Int32Array, n: number): Assembled {
    let total = 0;
    for (let k = 0; k < n; k++) total += Math.min(lengths[k], slotSize, this.maxDatagram);
    const bytes = new Uint8Array(total);
    const index = this.index;
    index.clear();
    let truncated = 0;
    let badFrames = 0;
    let at = 0;
    for (let k = 0; k < n; k++) {
      const length = Math.min(lengths[k], slotSize, this.maxDatagram);
      bytes.set(slots.subarray(k * slotSize, k * slotSize + length), at);
      if (this.framing === 'coalesced') {
        const before = index.count;
        try {
          if (lengths[k] > length) throw new Error('cut');
          decodeFrame(bytes, at, length, index);
        } catch {
          badFrames++;
        }
        for (let m = before; m < index.count; m++) {
          if (index.lengths[m] <= this.maxMessage) continue;
          index.lengths[m] = this.maxMessage;
          truncated++;
        }
      } else {
        if (lengths[k] > length) truncated++;
        const skip = this.header ? Math.min(MESSAGE_HEADER_BYTES, length) : 0;
        index.push(at + skip, length - skip, this.header ? at : -1);
      }
      at += length;
    }
    const count = index.count;
    const batch: MessageBatchData = {
      bytes,
      offsets: index.offsets.slice(0, count),
      lengths: index.lengths.slice(0, count),
      headerAt: this.header ? index.headerAt.slice(0, count) : null,
      count,
    };
    return { batch, truncated, badFrames };
  }
}
