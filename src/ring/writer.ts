/**
 * The ring's single writer.
 *
 * Every write — one record, a batch, regions of a receive buffer — goes
 * through one core (`writeRun`): claim the whole run at the write position,
 * move the tail past any record it is about to overwrite, copy the records
 * in, and publish the new write cursor once per call. The writer caches how
 * far it may go (`limit`, the slowest gating cursor plus the capacity) and
 * rescans the readers only when a write would pass it or a reader has joined.
 *
 * Publishing rule: a call publishes everything it wrote before it returns.
 * The ring has no timers, so a record left unpublished at the end of a call
 * could stay invisible for good (a reader in the same thread, or a writer
 * that goes idle). What the writer saves instead is the wake-up: it
 * notifies sleeping readers only when one flagged itself since the last
 * notify, so a stream of single writes to busy readers makes no futex calls.
 */
import { ErrorCode, MsgmuxError } from '../errors';
import { Gating } from './gating';
import { Header, PAD, RECORD_HEADER_BYTES, recordBytes, type RingViews } from './layout';
import { ArraySource, RegionSource, type Bytes, type RecordSource } from './record-source';
import { seqAdd, seqDiff } from './sequence';
import { processSleepsWords, ringSleeper } from './process-waits';
import { deadlineAfter, Waker, WaitStrategy, type WaitFor } from './wait-strategy';

export type { Bytes } from './record-source';

export class RingWriter {
  private position: number;
  private recordNumber: number;
  private tail: number;
  private limit: number;
  private epoch = -1;
  private pending = 0;
  private publishVersion: number;
  private closed = false;
  private readonly gating: Gating;
  private readonly arrays = new ArraySource();
  private readonly one: Bytes[] = [new Uint8Array(0)];
  private readonly regions = new RegionSource();
  private readonly waitRoom: WaitStrategy;
  private readonly readersWaker: Waker;

  /** @internal Use `ring.writer()`. */
  constructor(private readonly ring: RingViews) {
    const { i32 } = ring;
    this.position = Atomics.load(i32, Header.WRITE_CURSOR);
    this.tail = Atomics.load(i32, Header.TAIL);
    this.recordNumber = i32[Header.NEXT_RECORD_NUMBER];
    this.publishVersion = Atomics.load(i32, Header.PUBLISH_VERSION);
    this.limit = this.position;
    this.gating = new Gating(ring);
    // Shared with other processes: sleep with futex, and count the process readers' own sleeps flags.
    const sleeper = ringSleeper(ring);
    this.waitRoom = new WaitStrategy(i32, Header.GATE_SIGNAL, Header.WRITER_SLEEPS, sleeper);
    this.readersWaker = new Waker(i32, Header.WRITE_CURSOR, Header.READER_SLEEPS, sleeper, processSleepsWords(ring));
  }

  /** Writes one record if the slowest gating reader leaves room; never waits. */
  tryWrite(bytes: Bytes): boolean {
    this.one[0] = bytes;
    this.arrays.records = this.one;
    const written = this.writeRun(this.arrays, 0, 1);
    this.one[0] = EMPTY; // hold no reference to the caller's bytes
    this.arrays.records = EMPTY_LIST;
    return written === 1;
  }

  /** Writes records from `records[from]` on until one does not fit; returns how many it wrote. */
  tryWriteBatch(records: readonly Bytes[], from = 0): number {
    this.arrays.records = records;
    const written = this.writeRun(this.arrays, from, records.length);
    this.arrays.records = EMPTY_LIST;
    return written;
  }

  /**
   * Writes `count` records that sit in `source` at `offsets[k]`, `lengths[k]`
   * (a receive buffer filled by a syscall), without making a view per record.
   */
  tryWriteRegions(source: Bytes, offsets: Int32Array, lengths: Int32Array, from: number, count: number): number {
    const regions = this.regions;
    regions.source = source;
    regions.offsets = offsets;
    regions.lengths = lengths;
    const written = this.writeRun(regions, from, count);
    regions.source = EMPTY;
    return written;
  }

  /** Writes one record, blocking the thread until there is room. False if `timeoutMs` passed first. */
  writeSync(bytes: Bytes, timeoutMs?: number): boolean {
    return this.tryWrite(bytes) || this.writeBatchSync([bytes], timeoutMs) === 1;
  }

  /** Writes every record, blocking as needed; returns how many were written before `timeoutMs`. */
  writeBatchSync(records: readonly Bytes[], timeoutMs?: number): number {
    const deadline = deadlineAfter(timeoutMs);
    let done = 0;
    for (let timedOut = false; ; ) {
      done += this.tryWriteBatch(records, done); // once more after a timeout: what fits by then still goes in
      if (done === records.length || timedOut) return done;
      timedOut = !this.waitRoom.waitSync(this.roomFor(records[done].length), deadline);
    }
  }

  /**
   * Like writeSync for regions of a receive buffer. `until`, checked
   * whenever the wait wakes, ends it early: whoever makes it true must then
   * wake the writer (`Ring.signalWriter`), so no timeout is needed to see it.
   */
  writeRegionsSync(source: Bytes, offsets: Int32Array, lengths: Int32Array, count: number, timeoutMs?: number, until?: () => boolean): number {
    const deadline = deadlineAfter(timeoutMs);
    let done = 0;
    for (let timedOut = false; ; ) {
      done += this.tryWriteRegions(source, offsets, lengths, done, count);
      if (done === count || timedOut || until?.()) return done;
      timedOut = !this.waitRoom.waitSync(this.roomFor(lengths[done], false, until), deadline);
    }
  }

  /** Writes one record, waiting without blocking the event loop. */
  async write(bytes: Bytes): Promise<void> {
    if (!this.tryWrite(bytes)) return this.writeBatch([bytes]);
  }

  /** Writes every record, waiting without blocking the event loop. */
  async writeBatch(records: readonly Bytes[]): Promise<void> {
    let done = 0;
    while (done < records.length) {
      done += this.tryWriteBatch(records, done);
      if (done < records.length) await this.waitRoom.waitAsync(this.roomFor(records[done].length, true));
    }
  }

  /** True while the slowest gating reader leaves no room for a record of `length` bytes. */
  isBlocked(length = 0): boolean {
    return !this.hasRoom(this.spaceFor(length));
  }

  /** Gives the writer up so that another thread may take it. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    Atomics.store(this.ring.i32, Header.WRITER_OWNER, 0);
  }

  /** The write core: records `from` to `to` of `source`, as many as fit; one tail move, one publish. */
  private writeRun(source: RecordSource, from: number, to: number): number {
    this.checkOpen();
    this.noticeJoins();
    let end = this.position;
    let k = from;
    for (let next; k < to && (next = this.claim(end, source.length(k))) !== null; k++) end = next;
    if (k === from) return 0;
    this.moveTailBefore(end);
    for (let j = from; j < k; j++) this.copyIn(source, j);
    this.publish();
    return k - from;
  }

  /**
   * Where a record of `length` bytes that starts at sequence `from` ends,
   * padding included; null when the slowest gating reader leaves no room.
   */
  private claim(from: number, length: number): number | null {
    const { maxRecord } = this.ring;
    if (length > maxRecord) {
      throw new MsgmuxError(
        ErrorCode.RECORD_TOO_LARGE,
        `record of ${length} bytes is larger than a quarter of the ring (${maxRecord} bytes)`,
      );
    }
    const end = seqAdd(from, this.paddingAt(from, recordBytes(length)) + recordBytes(length));
    if (seqDiff(this.limit, end) < 0 && !this.hasRoom(seqDiff(end, this.position))) return null;
    return end;
  }

  /** Bytes of padding a record of `size` bytes needs at sequence `at`: all that is left before the end, if it does not fit. */
  private paddingAt(at: number, size: number): number {
    const left = this.ring.capacity - (at & this.ring.mask);
    return left < size ? left : 0;
  }

  /** Copies claimed record `k` in at the write position; the tail is already out of its way. */
  private copyIn(source: RecordSource, k: number): void {
    const { i32, u8, mask, dataOffset } = this.ring;
    const length = source.length(k);
    const size = recordBytes(length);
    const pad = this.paddingAt(this.position, size);
    if (pad !== 0) i32[(dataOffset + (this.position & mask)) >> 2] = PAD;
    const start = seqAdd(this.position, pad);
    const word = (dataOffset + (start & mask)) >> 2;
    i32[word] = length;
    i32[word + 1] = this.recordNumber;
    source.copyTo(k, u8, (word << 2) + RECORD_HEADER_BYTES);
    this.position = seqAdd(start, size);
    this.recordNumber = seqAdd(this.recordNumber, 1);
    this.pending++;
  }

  /** Moves the tail past every record that bytes up to `end` will overwrite, before they are. */
  private moveTailBefore(end: number): void {
    const { i32, mask, capacity, dataOffset } = this.ring;
    let tail = this.tail;
    if (seqDiff(end, tail) <= capacity) return;
    while (seqDiff(end, tail) > capacity) {
      const at = tail & mask;
      const length = i32[(dataOffset + at) >> 2];
      tail = seqAdd(tail, length === PAD ? capacity - at : recordBytes(length));
    }
    this.tail = tail;
    Atomics.store(i32, Header.TAIL, tail);
  }

  private publish(): void {
    const { i32, f64 } = this.ring;
    f64[Header.WRITTEN_F64_BYTE >> 3] += this.pending;
    this.pending = 0;
    // A seqlock around the (cursor, record number) pair, for readers joining at `latest`.
    Atomics.store(i32, Header.PUBLISH_VERSION, ++this.publishVersion);
    Atomics.store(i32, Header.NEXT_RECORD_NUMBER, this.recordNumber);
    Atomics.store(i32, Header.WRITE_CURSOR, this.position);
    Atomics.store(i32, Header.PUBLISH_VERSION, ++this.publishVersion);
    this.readersWaker.wake();
  }

  /** Bytes the next record of `length` needs at the current position, padding included. */
  private spaceFor(length: number): number {
    const size = recordBytes(Math.min(length, this.ring.maxRecord));
    return this.paddingAt(this.position, size) + size;
  }

  /** Rescans the readers; evicts stalled `evict` readers that are in the way. */
  private hasRoom(space: number): boolean {
    const end = seqAdd(this.position, space);
    this.limit = seqAdd(this.position, this.ring.capacity - this.gating.slowestLag(this.position));
    if (seqDiff(this.limit, end) >= 0) return true;
    if (this.gating.evictStalled(end, Date.now()) === 0) return false;
    this.limit = seqAdd(this.position, this.ring.capacity - this.gating.slowestLag(this.position));
    return seqDiff(this.limit, end) >= 0;
  }

  private noticeJoins(): void {
    const epoch = Atomics.load(this.ring.i32, Header.JOIN_EPOCH);
    if (epoch !== this.epoch) {
      this.epoch = epoch;
      this.limit = this.position; // forces a rescan on the next write that needs room
    }
  }

  /**
   * What waiting for room for the next record of `length` bytes means. Once
   * it has to sleep, the writer waits for a quarter of the ring (or the
   * record, if larger), not for one record: one wake-up then pays for many
   * records, and the readers keep their cores instead of trading them with
   * the writer batch by batch. Readers signal when they cross `WRITER_WAKE_AT`.
   */
  private roomFor(length: number, checkOpen = false, until?: () => boolean): WaitFor {
    const { i32, capacity } = this.ring;
    const space = this.spaceFor(length);
    let wanted = 0; // 0 while spinning: any room for the record will do
    return {
      ready: () => {
        if (checkOpen) this.checkOpen();
        if (until?.()) return true;
        return this.hasRoom(space) && seqDiff(this.limit, seqAdd(this.position, wanted)) >= 0;
      },
      beforeSleep: () => {
        wanted = Math.max(space, capacity >>> 2);
        Atomics.store(i32, Header.WRITER_WAKE_AT, seqAdd(this.position, wanted - capacity));
        Atomics.store(i32, Header.WRITER_WAITING, 1);
      },
      afterSleep: () => Atomics.store(i32, Header.WRITER_WAITING, 0),
      sleepCap: () => this.gating.nextEvictionIn(Date.now()),
    };
  }

  private checkOpen(): void {
    if (this.closed) throw new MsgmuxError(ErrorCode.WRITER_CLOSED, 'the ring writer is closed');
  }
}

const EMPTY = new Uint8Array(0);
const EMPTY_LIST: readonly Bytes[] = [];
