/**
 * How a sink wants its messages, and the datagrams that says to send.
 *
 *   plain, no header:  one message per datagram, sent straight out of the ring (zero copy)
 *   plain, header:     one message per datagram, after its 12-byte header (see wire/header)
 *   coalesced:         several messages per datagram in a msgmux frame (see wire/frame),
 *                      with or without the per-message header
 *
 * The builder only packs what the ring already holds: it never waits for
 * more to fill a datagram, so coalescing adds no latency. Ring records are
 * the bare messages; a header's ingest stamp comes from the record table
 * beside the ring (src/source/record-meta.ts), by record number.
 */
import { COALESCED_DATAGRAM_MAX, entryBytes, FRAME_HEADER_BYTES, FrameWriter, largestDatagram, MESSAGE_HEADER_BYTES, writeMessageHeader } from '../wire';
import type { SinkFraming } from './spec';
import type { RecordMeta } from '../source/record-meta';
import { leaseScratch, returnScratch } from './thread-scratch';

export interface Delivery {
  framing: SinkFraming;
  /** Each message carries its ring sequence number and ingest stamp. */
  header: boolean;
}

export const PLAIN: Delivery = Object.freeze({ framing: 'plain', header: false });

/** Bytes of datagrams built per round before they are sent. */
const SCRATCH_BYTES = 4 * COALESCED_DATAGRAM_MAX;
/** recordOffsets, recordLengths, recordNumbers, firstRecords, offsets, lengths, messages. */
const INT32_ARRAYS = 7;

export class DatagramBuilder {
  /** Where the datagrams of the last build lie: datagram d is bytes [offsets[d], offsets[d] + lengths[d]) of `source`. */
  source: Uint8Array;
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
  /** How many messages datagram d carries. */
  readonly messages: Int32Array;
  /** The record number of datagram d's first message (a plain datagram's only one). */
  readonly firstRecords: Int32Array;
  count = 0;
  /** The loaded records: message k is bytes [recordOffsets[k], recordOffsets[k] + recordLengths[k]) of the ring. */
  private readonly recordOffsets: Int32Array;
  private readonly recordLengths: Int32Array;
  private readonly recordNumbers: Int32Array;
  private readonly stampsMicros: Float64Array;
  private readonly scratch: Uint8Array;
  private readonly view: DataView;
  private readonly frames: FrameWriter;

  private readonly copies: boolean;
  /** Where every array above lies; given back to the thread by release(). */
  private readonly memory: ArrayBuffer;

  /**
   * `holdWholeBatch`: every build copies (never zero copy) and the scratch holds all
   * `maxBatch` records at once — for a lossy sink, which must copy a batch out before
   * it releases it.
   */
  constructor(
    private readonly ring: Uint8Array,
    private readonly recordMeta: RecordMeta,
    readonly delivery: Delivery,
    maxMessage: number,
    maxBatch: number,
    holdWholeBatch = false,
  ) {
    this.source = ring;
    this.copies = holdWholeBatch || delivery.framing === 'coalesced' || delivery.header;
    const perMessage = FRAME_HEADER_BYTES + entryBytes(maxMessage, delivery.header);
    const bytes = holdWholeBatch ? maxBatch * perMessage : Math.max(SCRATCH_BYTES, 2 * largestDatagram(delivery, maxMessage));
    // Every array in one leased buffer (thread-scratch.ts): the f64s first, for their alignment.
    const stampBytes = delivery.header ? maxBatch * 8 : 0;
    const scratchBytes = this.copies ? bytes : 0;
    this.memory = leaseScratch(stampBytes + INT32_ARRAYS * maxBatch * 4 + scratchBytes);
    let at = 0;
    const int32s = (): Int32Array => new Int32Array(this.memory, (at += maxBatch * 4) - maxBatch * 4, maxBatch);
    this.stampsMicros = new Float64Array(this.memory, 0, stampBytes / 8);
    at = stampBytes;
    this.recordOffsets = int32s();
    this.recordLengths = int32s();
    this.recordNumbers = int32s();
    this.firstRecords = int32s();
    this.offsets = int32s();
    this.lengths = int32s();
    this.messages = int32s();
    this.scratch = new Uint8Array(this.memory, at, scratchBytes);
    this.view = new DataView(this.memory, at, scratchBytes);
    this.frames = new FrameWriter(this.scratch);
  }

  /** The builder is done: its memory goes back to the thread, for the next sink's builder. */
  release(): void {
    returnScratch(this.memory);
  }

  /**
   * Takes in a peeked run of `count` ring records (and, for a header, their
   * stamps); then build(from) turns them into datagrams.
   */
  load(recordOffsets: Int32Array, recordLengths: Int32Array, recordNumbers: Int32Array, count: number): void {
    this.recordOffsets.set(recordOffsets.subarray(0, count));
    this.recordLengths.set(recordLengths.subarray(0, count));
    this.recordNumbers.set(recordNumbers.subarray(0, count));
    if (this.delivery.header) for (let k = 0; k < count; k++) this.stampsMicros[k] = this.recordMeta.stampOf(recordNumbers[k]);
  }

  /** Builds datagrams from loaded messages [from, count), as many as the scratch holds; returns how many messages they carry. */
  build(from: number, count: number): number {
    const { recordOffsets: offsets, recordLengths: lengths, recordNumbers: sequences } = this;
    this.count = 0;
    if (this.delivery.framing === 'coalesced') return this.buildFrames(from, count);
    if (!this.copies) {
      this.source = this.ring;
      for (let k = from; k < count; k++) this.push(offsets[k], lengths[k], k, 1);
      return count - from;
    }
    this.source = this.scratch;
    const header = this.delivery.header ? MESSAGE_HEADER_BYTES : 0;
    let at = 0;
    let k = from;
    for (; k < count && at + header + lengths[k] <= this.scratch.length; k++) {
      if (header > 0) writeMessageHeader(this.view, at, sequences[k], this.stampsMicros[k]);
      this.scratch.set(this.ring.subarray(offsets[k], offsets[k] + lengths[k]), at + header);
      this.push(at, header + lengths[k], k, 1);
      at += header + lengths[k];
    }
    return k - from;
  }

  private buildFrames(from: number, count: number): number {
    const { recordOffsets: offsets, recordLengths: lengths, recordNumbers: sequences, stampsMicros } = this;
    const headers = this.delivery.header ? { sequences, stampsMicros } : null;
    this.source = this.scratch;
    let at = 0;
    let k = from;
    while (k < count) {
      const next = FRAME_HEADER_BYTES + entryBytes(lengths[k], this.delivery.header);
      if (at + next > this.scratch.length) break;
      const limit = Math.min(COALESCED_DATAGRAM_MAX, this.scratch.length - at);
      const taken = this.frames.frame(at, limit, this.ring, offsets, lengths, k, count, headers);
      this.push(at, this.frames.bytes, k, taken);
      at += this.frames.bytes;
      k += taken;
    }
    return k - from;
  }

  private push(offset: number, length: number, first: number, messages: number): void {
    this.firstRecords[this.count] = this.recordNumbers[first];
    this.offsets[this.count] = offset;
    this.lengths[this.count] = length;
    this.messages[this.count] = messages;
    this.count++;
  }
}
