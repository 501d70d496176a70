/**
 * One reader of the ring, owning one slot and its cursor.
 *
 * The core is `peek` + `release`: peek lists the next records as regions of
 * the ring's buffer (zero copy: a socket can send straight out of them), and
 * release advances the cursor past them in one store. Every other form —
 * copying, blocking, async, iteration — is built on those two.
 *
 * A lossy reader can be lapped while it looks at a record. The writer moves
 * the tail past a record *before* overwriting it, so a reader that finds the
 * tail beyond a record's start after using it knows that record may be torn,
 * discards it (seqlock style) and counts the gap from the record indexes.
 */
import { ErrorCode, MsgmuxError } from '../errors';
import { Header, PAD, PolicyCode, recordBytes, Slot, SlotState, slotWord, type ReaderPolicy, type RingViews } from './layout';
import { deadlineAfter, remaining, sleepAsync, sleepSync, spin } from './wait-strategy';

/** Regions of the ring's buffer holding the records of one peek; valid until `release()`. */
export interface RecordBatch {
  count: number;
  /** Byte offsets of each payload in `ring.buffer`. */
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
  /** Each record's number in the stream (mod 2^32). */
  readonly indexes: Int32Array;
}

export const DEFAULT_BATCH = 256;

/** Typed arrays up to this many bytes live on V8's heap; larger ones need an ArrayBuffer each. */
const ON_HEAP_COPY_MAX = 64;

export class RingReader {
  private cursor: number;
  private batchStart: number;
  private batchEnd: number;
  private expectedIndex: number | null;
  private closed = false;
  private readonly word: number;
  private readonly batch: RecordBatch;
  /** Sequence at which each record of the batch starts, to compare against the tail. */
  private readonly starts: Int32Array;

  /** @internal Use `ring.reader()`. */
  constructor(
    private readonly ring: RingViews,
    readonly slot: number,
    readonly policy: ReaderPolicy,
    maxBatch: number,
    firstIndex: number | null,
  ) {
    this.expectedIndex = firstIndex;
    this.word = slotWord(slot);
    this.cursor = Atomics.load(ring.i32, this.word + Slot.CURSOR);
    this.batchStart = this.batchEnd = this.cursor;
    this.batch = {
      count: 0,
      offsets: new Int32Array(maxBatch),
      lengths: new Int32Array(maxBatch),
      indexes: new Int32Array(maxBatch),
    };
    this.starts = new Int32Array(maxBatch);
  }

  /** Records this reader skipped because it was lapped (`drop` readers only). */
  get lost(): number {
    return this.ring.f64[(this.slotByte() + Slot.LOST_F64_BYTE) >> 3];
  }

  /** Records delivered to this reader. */
  get delivered(): number {
    return this.ring.f64[(this.slotByte() + Slot.DELIVERED_F64_BYTE) >> 3];
  }

  /** Bytes published but not yet released by this reader. */
  get lag(): number {
    return (Atomics.load(this.ring.i32, Header.WRITE_CURSOR) - this.cursor) | 0;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** True once the writer evicted this reader for stalling past its budget (`evict` policy). */
  get evicted(): boolean {
    return Atomics.load(this.ring.i32, this.word + Slot.STATE) === SlotState.EVICTED;
  }

  /**
   * Lists up to `max` published records without consuming them. Returns an
   * empty batch (count 0) when nothing is ready. Throws when evicted.
   */
  peek(max = this.batch.offsets.length): RecordBatch {
    const { i32, mask, capacity, dataOffset, maxRecord } = this.ring;
    this.checkActive();
    const batch = this.batch;
    const limit = Math.min(max, batch.offsets.length);
    const published = Atomics.load(i32, Header.WRITE_CURSOR);
    const tail = Atomics.load(i32, Header.TAIL);
    let at = ((tail - this.cursor) | 0) > 0 ? tail : this.cursor; // lapped: resume at the oldest intact record
    this.batchStart = at;
    let count = 0;
    while (count < limit && at !== published) {
      const place = at & mask;
      const length = i32[(dataOffset + place) >> 2];
      if (length === PAD) {
        at = (at + capacity - place) | 0;
        continue;
      }
      // A lapped reader may find garbage here; never let it point outside the data area.
      if (length < 0 || length > maxRecord || place + recordBytes(length) > capacity) break;
      this.starts[count] = at;
      batch.offsets[count] = dataOffset + place + 8;
      batch.lengths[count] = length;
      batch.indexes[count] = i32[((dataOffset + place) >> 2) + 1];
      count++;
      at = (at + recordBytes(length)) | 0;
    }
    batch.count = count;
    this.batchEnd = at;
    return batch;
  }

  /**
   * Consumes the last peek. Returns the position of the first record in it
   * that is known intact: records before it were overwritten while in use
   * (possible only for lossy readers) and must be discarded.
   */
  release(): number {
    const { i32, f64 } = this.ring;
    const batch = this.batch;
    const tail = Atomics.load(i32, Header.TAIL);
    let intactFrom = 0;
    if (((tail - this.batchStart) | 0) > 0) {
      while (intactFrom < batch.count && ((tail - this.starts[intactFrom]) | 0) > 0) intactFrom++;
    }
    const before = this.cursor;
    this.cursor = ((tail - this.batchEnd) | 0) > 0 ? tail : this.batchEnd;
    Atomics.store(i32, this.word + Slot.CURSOR, this.cursor);
    // Wake a sleeping writer only when this release crosses the point it waits for: waking
    // it for less costs a futex call and, on a busy machine, a core taken from a reader.
    if (Atomics.load(i32, Header.WRITER_WAITING) !== 0) {
      const wakeAt = Atomics.load(i32, Header.WRITER_WAKE_AT);
      if (((before - wakeAt) | 0) < 0 && ((this.cursor - wakeAt) | 0) >= 0) this.signalWriter();
    }

    const fresh = batch.count - intactFrom;
    if (fresh > 0) {
      const first = batch.indexes[intactFrom];
      if (this.expectedIndex !== null && first !== this.expectedIndex) {
        f64[(this.slotByte() + Slot.LOST_F64_BYTE) >> 3] += (first - this.expectedIndex) | 0;
      }
      this.expectedIndex = (batch.indexes[batch.count - 1] + 1) | 0;
      f64[(this.slotByte() + Slot.DELIVERED_F64_BYTE) >> 3] += fresh;
    }
    batch.count = 0;
    return intactFrom;
  }

  /** Like peek, but blocks the thread until at least one record is ready or `timeoutMs` passes. */
  peekSync(max?: number, timeoutMs?: number): RecordBatch {
    const deadline = deadlineAfter(timeoutMs);
    for (;;) {
      if (this.peek(max).count > 0) return this.batch;
      if (this.batchEnd !== this.cursor) {
        this.release(); // the peek skipped a lap or padding and found nothing yet: move past it
        continue;
      }
      if (spin(() => this.hasNew())) continue;
      const left = remaining(deadline);
      if (left === 0) return this.batch;
      this.sleepWhileCaughtUp((published) => sleepSync(this.ring.i32, Header.WRITE_CURSOR, published, left));
    }
  }

  /** Next record (a copy), blocking the thread; null on timeout. */
  readSync(timeoutMs?: number): Uint8Array | null {
    return this.readBatchSync(1, timeoutMs)[0] ?? null;
  }

  /** Up to `max` records (copies), blocking until at least one is ready; [] on timeout. */
  readBatchSync(max = DEFAULT_BATCH, timeoutMs?: number): Uint8Array[] {
    const deadline = deadlineAfter(timeoutMs);
    do {
      const records = this.copyOut(this.peekSync(max, remaining(deadline)));
      if (records.length > 0) return records;
    } while (remaining(deadline) > 0);
    return [];
  }

  /** Up to `max` records (copies), waiting without blocking the event loop; [] once closed. */
  async readBatch(max = DEFAULT_BATCH): Promise<Uint8Array[]> {
    while (!this.closed) {
      const records = this.copyOut(this.peek(max));
      if (records.length > 0) return records;
      await this.sleepWhileCaughtUpAsync();
    }
    return [];
  }

  /** Next record (a copy), waiting without blocking the event loop; null once closed. */
  async read(): Promise<Uint8Array | null> {
    const [record] = await this.readBatch(1);
    return record ?? null;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for (;;) {
      const records = await this.readBatch();
      if (records.length === 0) return;
      yield* records;
    }
  }

  /** Leaves the ring: the slot stops gating the writer at once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const { i32 } = this.ring;
    Atomics.store(i32, this.word + Slot.STATE, SlotState.FREE);
    this.signalWriter();
    Atomics.notify(i32, Header.WRITE_CURSOR); // wakes this reader's own async sleepers so they see the close
  }

  /**
   * Copies a batch out. A record of up to 64 bytes gets its own copy (V8
   * keeps typed arrays that small on its heap: cheap). Larger ones would each
   * cost an ArrayBuffer (more than the copy), so a run of them lying back to
   * back in the ring shares one copy and each record is a view of it: keeping
   * one such record alive keeps its run's buffer alive.
   */
  private copyOut(batch: RecordBatch): Uint8Array[] {
    const { u8 } = this.ring;
    const { offsets, lengths, count } = batch;
    const copies: Uint8Array[] = new Array(count);
    for (let k = 0; k < count; ) {
      if (lengths[k] <= ON_HEAP_COPY_MAX) {
        copies[k] = u8.slice(offsets[k], offsets[k] + lengths[k]);
        k++;
        continue;
      }
      let end = k + 1;
      while (end < count && lengths[end] > ON_HEAP_COPY_MAX && offsets[end] > offsets[end - 1]) end++;
      const first = offsets[k];
      const run = u8.slice(first, offsets[end - 1] + lengths[end - 1]);
      for (; k < end; k++) copies[k] = run.subarray(offsets[k] - first, offsets[k] - first + lengths[k]);
    }
    const intactFrom = this.release();
    return intactFrom === 0 ? copies : copies.slice(intactFrom);
  }

  private hasNew(): boolean {
    return Atomics.load(this.ring.i32, Header.WRITE_CURSOR) !== this.cursor || this.isEvictedOrClosed();
  }

  private sleepWhileCaughtUp(sleep: (published: number) => void): void {
    const { i32 } = this.ring;
    Atomics.add(i32, Header.READER_WAITERS, 1);
    try {
      const published = Atomics.load(i32, Header.WRITE_CURSOR);
      if (published === this.cursor && !this.isEvictedOrClosed()) sleep(published);
    } finally {
      Atomics.sub(i32, Header.READER_WAITERS, 1);
    }
  }

  private async sleepWhileCaughtUpAsync(): Promise<void> {
    const { i32 } = this.ring;
    Atomics.add(i32, Header.READER_WAITERS, 1);
    try {
      const published = Atomics.load(i32, Header.WRITE_CURSOR);
      if (published === this.cursor && !this.isEvictedOrClosed()) await sleepAsync(i32, Header.WRITE_CURSOR, published, Infinity);
    } finally {
      Atomics.sub(i32, Header.READER_WAITERS, 1);
    }
  }

  private isEvictedOrClosed(): boolean {
    return this.closed || Atomics.load(this.ring.i32, this.word + Slot.STATE) !== SlotState.ACTIVE;
  }

  private checkActive(): void {
    if (this.closed) throw new MsgmuxError(ErrorCode.READER_CLOSED, 'the ring reader is closed');
    const state = Atomics.load(this.ring.i32, this.word + Slot.STATE);
    if (state === SlotState.EVICTED) {
      throw new MsgmuxError(ErrorCode.READER_EVICTED, `reader in slot ${this.slot} was evicted: it stalled longer than its budget`);
    }
    if (state !== SlotState.ACTIVE) {
      throw new MsgmuxError(ErrorCode.READER_RECLAIMED, `reader in slot ${this.slot} was reclaimed by the ring's owner`);
    }
  }

  private signalWriter(): void {
    Atomics.add(this.ring.i32, Header.GATE_SIGNAL, 1);
    Atomics.notify(this.ring.i32, Header.GATE_SIGNAL);
  }

  private slotByte(): number {
    return this.word << 2;
  }
}

export const isGating = (policy: ReaderPolicy): boolean => PolicyCode[policy] !== PolicyCode.drop;
