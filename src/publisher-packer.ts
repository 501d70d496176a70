/**
 * How a Publisher's sending thread packs: when the daemon reads a packed
 * queue (src/wire/packed.ts), runs of messages of the same priority that
 * are already in the local ring go into one frame, one mq_send for many.
 * It never waits to fill a frame: a lone message leaves at once, in a
 * frame of one.
 *
 * Every message then goes through the packed queue, so the publisher's own
 * order holds. The exception is a message too large for a frame (within 8
 * bytes of the queue's message size): it goes to the bus queue as is, once
 * the packed queue is empty, and the next frame waits until the bus queue is
 * empty too. Ingest writes what it took from one queue before it reads the
 * other, so an empty queue means what was sent there is ahead in the ring.
 */
import type { MessageQueue } from './native';
import { FRAME_HEADER_BYTES, FrameWriter, ENTRY_LENGTH_BYTES } from './wire';

const WAIT_FOR_EMPTY_MS = 1;

export class Packer {
  private readonly writer: FrameWriter;
  private readonly size: number;
  private readonly nap = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    private readonly packed: MessageQueue,
    private readonly bus: MessageQueue,
    private readonly sendWaitMs: number,
  ) {
    this.size = packed.attributes().messageSize;
    this.writer = new FrameWriter(new Uint8Array(this.size));
  }

  /**
   * Sends messages [from, count) — message k is bytes [offsets[k], offsets[k] + lengths[k])
   * of `source` at priorities[k] — in frames; returns how many it sent (all of them).
   */
  send(source: Uint8Array, offsets: Int32Array, lengths: Int32Array, priorities: Int32Array, count: number): void {
    const largest = this.size - FRAME_HEADER_BYTES - ENTRY_LENGTH_BYTES;
    for (let k = 0; k < count; ) {
      if (lengths[k] > largest) {
        this.sendAlone(source.subarray(offsets[k], offsets[k] + lengths[k]), priorities[k]);
        k++;
        continue;
      }
      let end = k + 1;
      while (end < count && priorities[end] === priorities[k] && lengths[end] <= largest) end++;
      const taken = this.writer.frame(0, this.size, source, offsets, lengths, k, end, null);
      const frame = this.writer.out.subarray(0, this.writer.bytes);
      while (!this.packed.timedSend(frame, priorities[k], this.sendWaitMs));
      k += taken;
    }
  }

  private sendAlone(message: Uint8Array, priority: number): void {
    this.waitUntilEmpty(this.packed);
    while (!this.bus.timedSend(message, priority, this.sendWaitMs));
    this.waitUntilEmpty(this.bus);
  }

  private waitUntilEmpty(queue: MessageQueue): void {
    while (queue.attributes().current > 0) Atomics.wait(this.nap, 0, 0, WAIT_FOR_EMPTY_MS);
  }
}
