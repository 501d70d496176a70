/**
 * One reader of the ring, owning one reader slot and its cursor.
 *
 * The core is `peek` + `release`: peek lists the next records as regions of
 * the ring's buffer (zero copy: a socket can send straight out of them), and
 * release consumes them. Every other form — copying, blocking, async,
 * iteration — is built on those two.
 *
 * Cheap per record: a reader serves records up to the write cursor it last
 * loaded without touching the writer's lines, and releases lazily: it keeps
 * its cursor to itself (`cursor`) and stores it in its slot (`released`),
 * where the writer sees it, only when
 *   - it has consumed `releaseWindow` bytes since the last store, or
 *   - it has caught up with what it last saw published (so before it could
 *     wait: a reader never sleeps holding records back), or
 *   - the writer is waiting for room.
 * So a `block` reader holds the writer back by at most `releaseWindow` bytes
 * it has already consumed, and only until its next call; once it has read
 * everything, everything is released.
 *
 * `readSync` serves one record per call out of a whole peek (`served`): the
 * loads of the writer's lines, the state check and the release are paid once
 * per batch, and a call copies one record and returns it. Every other call
 * first settles what readSync handed out (`settle`), so the forms mix freely.
 *
 * A lossy reader can be lapped while it looks at a record. The writer moves
 * the tail past a record *before* overwriting it, so a reader that finds the
 * tail beyond a record's start after using it knows that record may be torn,
 * discards it (seqlock style) and counts the gap from the record numbers.
 * A `block` reader cannot be lapped once the writer has seen it join, so it
 * checks the tail only until then (see `checksTail`).
 */
import { ErrorCode, MsgmuxError } from '../errors';
import { CopyPool } from './copy-pool';
import { GUARD_STATE, Header, PAD, PolicyCode, RECORD_HEADER_BYTES, recordBytes, Slot, SlotState, slotBase, slotCounter, type ReaderPolicy, type RingViews } from './layout';
import { guardBase } from './reader-slots';
import { seqAdd, seqCrossed, seqDiff, seqIsAfter, seqMax } from './sequence';
import { RECORDS_SLEEP_CAP_MS, ringSleeper } from './process-waits';
import { deadlineAfter, Waker, WaitStrategy, type WaitFor } from './wait-strategy';

/** Regions of the ring's buffer holding the records of one peek; valid until `release()`. */
export interface RecordBatch {
  count: number;
  /** Byte offsets of each payload in `ring.buffer`. */
  readonly offsets: Int32Array;
  readonly lengths: Int32Array;
  /** Each record's number in the stream (mod 2^32). */
  readonly recordNumbers: Int32Array;
  /** @deprecated The same array as `recordNumbers`. */
  readonly indexes: Int32Array;
}

export const DEFAULT_BATCH = 256;

/** Most bytes a reader consumes before it stores its cursor for the writer to see. */
export const releaseWindowFor = (capacity: number): number => Math.min(capacity >>> 4, 64 << 10);

export class RingReader {
  /** Sequence of the next record to read: this reader's own view. */
  private cursor: number;
  /** The cursor as last stored in the slot: what the writer sees. */
  private released: number;
  /** The write cursor as last loaded. */
  private seen: number;
  private batchStart: number;
  private batchEnd: number;
  private expectedRecord: number | null;
  private deliveredCount = 0;
  /** Records of the current batch that readSync has handed out; -1 when the batch is not readSync's. */
  private served = -1;
  /**
   * Whether peek and release check the tail. Lossy readers always do. A
   * gating reader that joined at `earliest` may race a write call that began
   * before the writer saw it join; once the write cursor has moved past the
   * value it saw on joining, that call is over and the tail can no longer
   * pass its cursor.
   */
  private checksTail: boolean;
  private joinSeen: number | null;
  private closed = false;
  private readonly base: number;
  /** A process slot's guard (the writer's record of its state), -1 for a thread's slot. */
  private readonly guard: number;
  private readonly batch: RecordBatch;
  /** Sequence at which each record of the batch starts, to compare against the tail. */
  private readonly starts: Int32Array;
  private readonly releaseWindow: number;
  private readonly pool: CopyPool;
  private readonly waitRecords: WaitStrategy;
  private readonly writerWaker: Waker;
  private readonly ownSleepers: Waker;
  /** What else ends the current peekSync's wait (its `until`), or null. */
  private until: (() => boolean) | null = null;
  private readonly caughtUp: WaitFor = {
    ready: () => this.hasNew() || (this.until !== null && this.until()),
    beforeSleep: () => {
      if (this.released !== this.cursor) this.publishCursor();
    },
  };

  /** @internal Use `ring.reader()`. */
  constructor(
    private readonly ring: RingViews,
    /** This reader's slot number, as in `ring.readers()`. */
    readonly readerSlot: number,
    readonly policy: ReaderPolicy,
    maxBatch: number,
    firstRecord: number | null,
    joinedAt: 'latest' | 'earliest',
    /**
     * A reader in another process than the writer (src/shm): it maps the ring read-only but for
     * its own slot's page, so it flags its sleeps in its slot and wakes the writer without a bump.
     */
    private readonly inOtherProcess = false,
  ) {
    const { i32 } = ring;
    this.expectedRecord = firstRecord;
    this.base = slotBase(readerSlot);
    this.guard = inOtherProcess ? guardBase(ring, readerSlot) : -1;
    this.cursor = this.released = this.seen = Atomics.load(i32, this.base + Slot.CURSOR);
    this.batchStart = this.batchEnd = this.cursor;
    const gating = PolicyCode[policy] === PolicyCode.block;
    this.checksTail = !gating || joinedAt === 'earliest';
    this.joinSeen = gating && joinedAt === 'earliest' ? Atomics.load(i32, Header.WRITE_CURSOR) : null;
    const recordNumbers = new Int32Array(maxBatch);
    this.batch = { count: 0, offsets: new Int32Array(maxBatch), lengths: new Int32Array(maxBatch), recordNumbers, indexes: recordNumbers };
    this.starts = new Int32Array(maxBatch);
    this.releaseWindow = releaseWindowFor(ring.capacity);
    this.pool = new CopyPool(ring.u8, i32);
    const sleeper = ringSleeper(ring);
    const sleepsWord = inOtherProcess ? this.base + Slot.SLEEPS : Header.READER_SLEEPS;
    // The writer bumps the write cursor before it wakes readers: no short cap needed (see RECORDS_SLEEP_CAP_MS).
    this.waitRecords = new WaitStrategy(i32, Header.WRITE_CURSOR, sleepsWord, inOtherProcess ? ringSleeper(ring, RECORDS_SLEEP_CAP_MS) : undefined);
    this.writerWaker = new Waker(i32, Header.GATE_SIGNAL, Header.WRITER_SLEEPS, sleeper);
    this.ownSleepers = new Waker(i32, Header.WRITE_CURSOR, sleepsWord, sleeper);
  }

  /** @deprecated The same as `readerSlot`. */
  get slot(): number {
    return this.readerSlot;
  }

  /** Records this reader skipped because it was lapped (`drop` readers only). */
  get lost(): number {
    return this.ring.f64[slotCounter(this.readerSlot, Slot.LOST_F64_BYTE)];
  }

  /** Records delivered to this reader. */
  get delivered(): number {
    return this.deliveredCount + Math.max(this.served, 0);
  }

  /** Bytes published but not yet consumed by this reader. */
  get lag(): number {
    const served = this.served;
    const consumedTo = served < 0 ? this.cursor : served < this.batch.count ? this.starts[served] : this.batchEnd;
    return seqDiff(Atomics.load(this.ring.i32, Header.WRITE_CURSOR), consumedTo);
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** True once the writer evicted this reader for stalling past its budget (`evict` policy). */
  get evicted(): boolean {
    return this.slotState() === SlotState.EVICTED;
  }

  /**
   * Lists up to `max` published records without consuming them. Returns an
   * empty batch (count 0) when nothing is ready. Throws when evicted.
   */
  peek(max = this.batch.offsets.length): RecordBatch {
    const { i32, mask, capacity, dataOffset, maxRecord } = this.ring;
    if (this.served >= 0) this.settle();
    this.checkActive();
    let at = this.cursor;
    if (at === this.seen || this.checksTail) {
      this.seen = Atomics.load(i32, Header.WRITE_CURSOR);
      if (this.checksTail) at = seqMax(Atomics.load(i32, Header.TAIL), at); // lapped: resume at the oldest intact record
    }
    const batch = this.batch;
    const limit = Math.min(max, batch.offsets.length);
    const seen = this.seen;
    this.batchStart = at;
    let count = 0;
    while (count < limit && at !== seen) {
      const place = at & mask;
      const length = i32[(dataOffset + place) >> 2];
      if (length === PAD) {
        at = seqAdd(at, capacity - place);
        continue;
      }
      // A lapped reader may find garbage here; never let it point outside the data area.
      if (length < 0 || length > maxRecord || place + recordBytes(length) > capacity) break;
      this.starts[count] = at;
      batch.offsets[count] = dataOffset + place + RECORD_HEADER_BYTES;
      batch.lengths[count] = length;
      batch.recordNumbers[count] = i32[((dataOffset + place) >> 2) + 1];
      count++;
      at = seqAdd(at, recordBytes(length));
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
    if (this.served >= 0) this.settle();
    const batch = this.batch;
    let intactFrom = 0;
    let end = this.batchEnd;
    if (this.checksTail) {
      const tail = Atomics.load(this.ring.i32, Header.TAIL);
      if (seqIsAfter(tail, this.batchStart)) {
        while (intactFrom < batch.count && seqIsAfter(tail, this.starts[intactFrom])) intactFrom++;
      }
      end = seqMax(tail, end);
      this.noticeRaceOver();
    }
    this.consume(intactFrom, batch.count, end);
    return intactFrom;
  }

  /**
   * Like peek, but blocks the thread until at least one record is ready,
   * `timeoutMs` passes, or `until()` is true (checked whenever the wait wakes:
   * whoever makes it true calls `ring.wakeReaders()`); returns the batch then,
   * empty when nothing was ready.
   */
  peekSync(max?: number, timeoutMs?: number, until?: () => boolean): RecordBatch {
    if (this.peek(max).count > 0) return this.batch;
    const deadline = deadlineAfter(timeoutMs);
    this.until = until ?? null;
    try {
      for (;;) {
        if (this.batchEnd !== this.cursor) {
          this.release(); // the peek skipped a lap or padding and found nothing yet: move past it
        } else if (!this.waitRecords.waitSync(this.caughtUp, deadline)) {
          return this.peek(max);
        }
        if (this.peek(max).count > 0 || until?.()) return this.batch;
      }
    } finally {
      this.until = null;
    }
  }

  /**
   * Like peekSync, waiting without blocking the event loop (zero copy, with
   * each record's number); an empty batch once closed. Call release() after.
   */
  async peekAsync(max?: number): Promise<RecordBatch> {
    while (!this.closed) {
      if (this.peek(max).count > 0) return this.batch;
      if (this.batchEnd !== this.cursor) this.release(); // skipped a lap or padding and found nothing yet
      else await this.waitRecords.waitAsync(this.caughtUp);
    }
    this.batch.count = 0;
    return this.batch;
  }

  /** Next record (a copy), blocking the thread; null on timeout. */
  readSync(timeoutMs?: number): Buffer | null {
    for (;;) {
      const batch = this.batch;
      const k = this.served;
      // Serve the batch while it lasts, but hold back no more than a release window of consumed bytes.
      if (k >= 0 && k < batch.count && seqDiff(this.starts[k], this.released) < this.releaseWindow) {
        const record = this.pool.copy(batch.offsets[k], batch.lengths[k]);
        if (this.checksTail && seqIsAfter(Atomics.load(this.ring.i32, Header.TAIL), this.starts[k])) {
          this.settle(); // lapped while copying: this record may be torn; the next peek resumes at the tail
          continue;
        }
        this.served = k + 1;
        if (k + 1 === batch.count) this.settle();
        return record;
      }
      if (k >= 0) this.settle();
      if (this.peekSync(undefined, timeoutMs).count === 0) return null;
      this.served = 0;
    }
  }

  /** Up to `max` records (copies), blocking until at least one is ready; [] on timeout. */
  readBatchSync(max = DEFAULT_BATCH, timeoutMs?: number): Buffer[] {
    for (;;) {
      const batch = this.peekSync(max, timeoutMs);
      if (batch.count === 0) return [];
      const records = this.copyOut(batch);
      if (records.length > 0) return records;
    }
  }

  /** Up to `max` records (copies), waiting without blocking the event loop; [] once closed. */
  async readBatch(max = DEFAULT_BATCH): Promise<Buffer[]> {
    while (!this.closed) {
      const records = this.copyOut(this.peek(max));
      if (records.length > 0) return records;
      if (this.batchEnd === this.cursor) await this.waitRecords.waitAsync(this.caughtUp);
    }
    return [];
  }

  /** Next record (a copy), waiting without blocking the event loop; null once closed. */
  async read(): Promise<Buffer | null> {
    const [record] = await this.readBatch(1);
    return record ?? null;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const records = await this.readBatch();
      if (records.length === 0) return;
      yield* records;
    }
  }

  /** Leaves the ring: the slot stops gating the writer at once. */
  close(): void {
    if (this.closed) return;
    if (this.served >= 0) this.settle();
    this.closed = true;
    const { i32 } = this.ring;
    Atomics.store(i32, this.base + Slot.STATE, SlotState.FREE);
    this.signalWriter(true);
    this.ownSleepers.wakeAll(); // wakes this reader's own async sleepers so they see the close
  }

  /**
   * Counts records `from` to `to` of the batch as delivered (and a gap in the
   * record numbers before them as lost), moves the cursor to `end`, and stores
   * it for the writer when due (see the class comment).
   */
  private consume(from: number, to: number, end: number): void {
    const batch = this.batch;
    this.cursor = end;
    if (to > from) {
      const first = batch.recordNumbers[from];
      if (this.expectedRecord !== null && first !== this.expectedRecord) {
        this.ring.f64[slotCounter(this.readerSlot, Slot.LOST_F64_BYTE)] += seqDiff(first, this.expectedRecord);
      }
      this.expectedRecord = seqAdd(batch.recordNumbers[to - 1], 1);
      this.deliveredCount += to - from;
    }
    batch.count = 0;
    const writerWaiting = Atomics.load(this.ring.i32, Header.WRITER_WAITING) !== 0;
    if (writerWaiting || end === this.seen || seqDiff(end, this.released) >= this.releaseWindow) this.publishCursor();
  }

  /**
   * Ends readSync's serving of a batch: the records it handed out (each
   * checked intact when copied, for a reader that checks the tail) are
   * consumed; the rest are left for the next read.
   */
  private settle(): void {
    const served = this.served;
    this.served = -1;
    if (this.checksTail) this.noticeRaceOver();
    const end = served < this.batch.count ? this.starts[served] : this.batchEnd;
    this.batchStart = this.batchEnd = end; // what was not served is no longer part of a peek
    this.consume(0, served, end);
  }

  /** A gating reader that joined at `earliest` stops checking the tail once the write racing its join is over. */
  private noticeRaceOver(): void {
    if (this.joinSeen !== null && this.seen !== this.joinSeen) this.checksTail = false;
  }

  /** Copies a batch out (see CopyPool.copyBatch), then releases it and keeps the intact copies. */
  private copyOut(batch: RecordBatch): Buffer[] {
    const copies = this.pool.copyBatch(batch.offsets, batch.lengths, batch.count);
    const intactFrom = this.release();
    return intactFrom === 0 ? copies : copies.slice(intactFrom);
  }

  /** Stores the cursor where the writer sees it; wakes a sleeping writer that waits for this much room. */
  private publishCursor(): void {
    const { i32, f64 } = this.ring;
    const before = this.released;
    this.released = this.cursor;
    f64[slotCounter(this.readerSlot, Slot.DELIVERED_F64_BYTE)] = this.deliveredCount;
    Atomics.store(i32, this.base + Slot.CURSOR, this.cursor);
    // Wake a sleeping writer only when this release crosses the point it waits for: waking
    // it for less costs a futex call and, on a busy machine, a core taken from a reader.
    // Load the flag only after the store: a writer that starts waiting after this load has
    // flagged itself before it scans the cursors, so its scan sees the store.
    if (Atomics.load(i32, Header.WRITER_WAITING) !== 0 && seqCrossed(before, this.cursor, Atomics.load(i32, Header.WRITER_WAKE_AT))) {
      this.signalWriter(false);
    }
  }

  private hasNew(): boolean {
    return Atomics.load(this.ring.i32, Header.WRITE_CURSOR) !== this.cursor || this.isEvictedOrClosed();
  }

  private isEvictedOrClosed(): boolean {
    return this.closed || this.slotState() !== SlotState.ACTIVE;
  }

  /** The slot's state: its own word, unless the guard of a process slot says otherwise (evicted, taken back). */
  private slotState(): number {
    const own = Atomics.load(this.ring.i32, this.base + Slot.STATE);
    if (this.guard < 0 || own !== SlotState.ACTIVE) return own;
    return Atomics.load(this.ring.i32, this.guard + GUARD_STATE);
  }

  private checkActive(): void {
    if (this.closed) throw new MsgmuxError(ErrorCode.READER_CLOSED, 'the ring reader is closed');
    const state = this.slotState();
    if (state === SlotState.EVICTED) {
      throw new MsgmuxError(ErrorCode.READER_EVICTED, `reader in slot ${this.readerSlot} was evicted: it stalled longer than its budget`);
    }
    if (state !== SlotState.ACTIVE) {
      throw new MsgmuxError(ErrorCode.READER_RECLAIMED, `reader in slot ${this.readerSlot} was reclaimed by the ring's owner`);
    }
  }

  private signalWriter(always: boolean): void {
    if (!this.inOtherProcess) Atomics.add(this.ring.i32, Header.GATE_SIGNAL, 1);
    if (always) this.writerWaker.wakeAll();
    else this.writerWaker.wake();
  }
}
