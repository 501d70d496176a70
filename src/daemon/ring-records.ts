/**
 * What the daemon keeps in its ring: each record is the message preceded by
 * the time ingest took it off the queue,
 *
 *   [stamp: float64, microseconds since the Unix epoch][the message]
 *
 * so a sink that asks for the per-message header gets the ingest time, and
 * every other sink sends the message region alone (still zero copy). Ring
 * payloads start 8-aligned, so the stamp is one Float64Array element.
 */
export const STAMP_BYTES = 8;

/** The ring record for a message of `messageSize` bytes. */
export const recordSizeFor = (messageSize: number): number => messageSize + STAMP_BYTES;

/**
 * Turns a peeked run of daemon records into the messages' regions and
 * stamps: message k is bytes [offsets[k], offsets[k] + lengths[k]) of the ring.
 */
export class MessageRegions {
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
  readonly stampsMicros: Float64Array;

  constructor(private readonly ringF64: Float64Array, maxBatch: number) {
    this.offsets = new Int32Array(maxBatch);
    this.lengths = new Int32Array(maxBatch);
    this.stampsMicros = new Float64Array(maxBatch);
  }

  /** Fills the regions of records [0, count); `withStamps` also reads each stamp. */
  fill(recordOffsets: Int32Array, recordLengths: Int32Array, count: number, withStamps: boolean): void {
    const { offsets, lengths, stampsMicros, ringF64 } = this;
    for (let k = 0; k < count; k++) {
      const at = recordOffsets[k];
      offsets[k] = at + STAMP_BYTES;
      lengths[k] = recordLengths[k] - STAMP_BYTES;
      if (withStamps) stampsMicros[k] = ringF64[at >> 3];
    }
  }
}
