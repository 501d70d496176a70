/**
 * Messages as they reach a Subscriber's event loop: one batch per post from
 * the receiving thread, all messages in one buffer. A message is a view of
 * that buffer (no copy); keeping one alive keeps its batch's buffer alive.
 *
 *   for await (const batch of sub.batches()) {
 *     for (let i = 0; i < batch.count; i++) use(batch.message(i));
 *   }
 */
import { readSequence, readStampMicros } from './wire';

export interface MessageBatchData {
  bytes: Uint8Array;
  offsets: Int32Array;
  lengths: Int32Array;
  /** Where message i's 12-byte header starts, when the sink asked for headers. */
  headerAt: Int32Array | null;
  count: number;
}

export class MessageBatch implements Iterable<Uint8Array> {
  readonly count: number;
  private view: DataView | null = null;

  constructor(private readonly data: MessageBatchData) {
    this.count = data.count;
  }

  /** Message i, a view of the batch's buffer. */
  message(i: number): Uint8Array {
    const { bytes, offsets, lengths } = this.data;
    return bytes.subarray(offsets[i], offsets[i] + lengths[i]);
  }

  /** Message i's ring sequence number (uint32), when subscribed with `header: true`; else undefined. */
  sequence(i: number): number | undefined {
    const at = this.data.headerAt?.[i];
    return at === undefined ? undefined : readSequence(this.dataView(), at);
  }

  /** When ingest took message i off the queue, in microseconds since the epoch, with `header: true`. */
  stampMicros(i: number): number | undefined {
    const at = this.data.headerAt?.[i];
    return at === undefined ? undefined : readStampMicros(this.dataView(), at);
  }

  *[Symbol.iterator](): Iterator<Uint8Array> {
    for (let i = 0; i < this.count; i++) yield this.message(i);
  }

  private dataView(): DataView {
    const { bytes } = this.data;
    return (this.view ??= new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  }
}
