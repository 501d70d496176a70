/**
 * A Publisher's shortcut for a message that comes alone: when the sending
 * thread has nothing left to send, and had nothing left a while ago either,
 * the caller's thread sends the message itself, without waiting (a full
 * queue means "take the usual way"), to the very queue the sending thread
 * uses, packed as it would be. A lone message then skips the hop to the
 * sending thread (a futex wake and a thread switch: tens of microseconds on
 * an idle machine, more on a busy one), while messages that follow each other
 * closely still go through the local ring and leave packed, many to one
 * mq_send.
 *
 * Order holds by construction: a message goes this way only when every
 * earlier one is already in the queue (the sender's SENT count equals what
 * the ring took, and nothing waits for room), and everything after it is
 * sent after it returns.
 */
import { MessageQueue } from './native';
import { ENTRY_LENGTH_BYTES, FRAME_HEADER_BYTES, FrameWriter } from './wire';

/**
 * A publish() that finds the sending thread idle this long after the previous
 * one that did is "alone" (a stream slower than ~20,000 messages/s).
 */
const ALONE_AFTER_MS = 0.05;

export class DirectSender {
  private readonly queue: MessageQueue;
  private readonly frames: FrameWriter | null;
  private readonly frameLimit: number;
  private readonly offsets = new Int32Array(1);
  private readonly lengths = new Int32Array(1);
  /** When a publish() last found the sending thread idle. */
  private lastIdleMs = -Infinity;

  /** `queue` is where the sending thread sends; `packed` whether it sends frames there. */
  constructor(queue: string, packed: boolean) {
    this.queue = MessageQueue.open(queue, { read: false, write: true });
    this.frameLimit = this.queue.attributes().messageSize;
    this.frames = packed ? new FrameWriter(new Uint8Array(this.frameLimit)) : null;
  }

  /**
   * Sends bytes [at, at + length) of `source` at `priority` if the message is
   * alone and the queue has room; returns whether it did. `senderIdle` says
   * that every earlier message is in the queue already.
   */
  trySend(source: Uint8Array, at: number, length: number, priority: number, senderIdle: boolean): boolean {
    // The clock is read only when the sender is idle: in a burst it seldom is, and a burst must not pay for the clock.
    if (!senderIdle) return false;
    const now = performance.now();
    const alone = now - this.lastIdleMs >= ALONE_AFTER_MS;
    this.lastIdleMs = now;
    if (!alone) return false;
    let message = source.subarray(at, at + length);
    if (this.frames !== null) {
      this.offsets[0] = at;
      this.lengths[0] = length;
      if (FRAME_HEADER_BYTES + ENTRY_LENGTH_BYTES + length > this.frameLimit) return false; // the sending thread sends it unpacked
      this.frames.frame(0, this.frameLimit, source, this.offsets, this.lengths, 0, 1, null);
      message = this.frames.out.subarray(0, this.frames.bytes);
    }
    try {
      return this.queue.timedSend(message, priority, 0);
    } catch {
      return false; // the sending thread's way reports what is wrong, if anything is
    }
  }

  close(): void {
    this.queue.close();
  }
}
