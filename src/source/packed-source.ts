/**
 * The packed queue as an ingest source (src/wire/packed.ts): each message on
 * it is a msgmux frame holding a run of a publisher's messages. take()
 * decodes what is queued into the messages' regions of its own scratch, so
 * ingest writes each message as its own bare ring record straight from
 * there. A queue message that is not a frame is dropped whole and counted.
 */
import { MessageQueue } from '../native';
import { align8 } from '../ring/layout';
import { decodeFrame, FrameIndex } from '../wire';

/** Packed queue messages taken per receive: each may hold hundreds of messages. */
const PACKED_BATCH = 8;

export class PackedSource {
  readonly bytes: Uint8Array;
  private readonly queue: MessageQueue;
  private readonly slot: number;
  private readonly sizes = new Int32Array(PACKED_BATCH);
  private readonly index = new FrameIndex(1024);
  /** Packed queue messages that were not frames: dropped. */
  malformed = 0;

  constructor(name: string) {
    this.queue = MessageQueue.open(name, { read: true, write: false });
    // The packed queue's own size, not the bus queue's: its frames are larger (src/daemon/bus-queue.ts).
    this.slot = align8(this.queue.attributes().messageSize);
    this.bytes = new Uint8Array(PACKED_BATCH * this.slot);
  }

  get fd(): number {
    return this.queue.fd;
  }

  /** Message k of the last take is bytes [offsets[k], offsets[k] + lengths[k]) of `bytes`. */
  get offsets(): Int32Array {
    return this.index.offsets;
  }

  get lengths(): Int32Array {
    return this.index.lengths;
  }

  /** Takes what is queued without waiting; returns how many messages the frames held. */
  take(): number {
    const { index, slot, sizes } = this;
    const taken = this.queue.receiveBatch(this.bytes, 0, slot, PACKED_BATCH, sizes, null, 0);
    index.clear();
    for (let k = 0; k < taken; k++) {
      try {
        decodeFrame(this.bytes, k * slot, sizes[k], index);
      } catch {
        this.malformed++;
      }
    }
    return index.count;
  }

  close(): void {
    this.queue.close();
  }
}
