/**
 * The ring's single writer.
 *
 * A write claims space at the write position, moves the tail past any record
 * it is about to overwrite, copies the record in, and — once per call, not
 * once per record — publishes the new write cursor. The writer caches how far
 * it may go (`limit`, the slowest gating cursor plus the capacity) and
 * rescans the readers only when a write would pass it or a reader has joined.
 */
import { ErrorCode, MsgmuxError } from '../errors';
import { Gating } from './gating';
import { Header, PAD, recordBytes, type RingViews } from './layout';
import { deadlineAfter, remaining, sleepAsync, sleepSync, spin } from './wait-strategy';

export type Bytes = Uint8Array;

export class RingWriter {
  private position: number;
  private index: number;
  private tail: number;
  private limit: number;
  private epoch = -1;
  private pending = 0;
  private closed = false;
  private readonly gating: Gating;

  /** @internal Use `ring.writer()`. */
  constructor(private readonly ring: RingViews) {
    const { i32 } = ring;
    this.position = Atomics.load(i32, Header.WRITE_CURSOR);
    this.tail = Atomics.load(i32, Header.TAIL);
    this.index = i32[Header.NEXT_INDEX];
    this.limit = this.position;
    this.gating = new Gating(ring);
  }

  /** Writes one record if the slowest gating reader leaves room; never waits. */
  tryWrite(bytes: Bytes): boolean {
    this.checkOpen();
    this.noticeJoins();
    const end = this.claim(this.position, bytes.length);
    if (end === null) return false;
    this.moveTailBefore(end);
    this.copyIn(bytes, 0, bytes.length);
    this.publish();
    return true;
  }

  /**
   * Writes records from `records[from]` on until one does not fit; returns how many it wrote.
   * The whole run is claimed first, so the tail — a line every reader polls — moves once per call.
   */
  tryWriteBatch(records: readonly Bytes[], from = 0): number {
    this.checkOpen();
    this.noticeJoins();
    let end = this.position;
    let i = from;
    for (let next; i < records.length && (next = this.claim(end, records[i].length)) !== null; i++) end = next;
    if (i === from) return 0;
    this.moveTailBefore(end);
    for (let k = from; k < i; k++) this.copyIn(records[k], 0, records[k].length);
    this.publish();
    return i - from;
  }

  /**
   * Writes `count` records that sit in `source` at `offsets[k]`, `lengths[k]`
   * (a receive buffer filled by a syscall), without making a view per record.
   */
  tryWriteRegions(source: Bytes, offsets: Int32Array, lengths: Int32Array, from: number, count: number): number {
    this.checkOpen();
    this.noticeJoins();
    let end = this.position;
    let k = from;
    for (let next; k < count && (next = this.claim(end, lengths[k])) !== null; k++) end = next;
    if (k === from) return 0;
    this.moveTailBefore(end);
    for (let j = from; j < k; j++) this.copyIn(source, offsets[j], lengths[j]);
    this.publish();
    return k - from;
  }

  /** Writes one record, blocking the thread until there is room. False if `timeoutMs` passed first. */
  writeSync(bytes: Bytes, timeoutMs?: number): boolean {
    return this.writeBatchSync([bytes], timeoutMs) === 1;
  }

  /** Writes every record, blocking as needed; returns how many were written before `timeoutMs`. */
  writeBatchSync(records: readonly Bytes[], timeoutMs?: number): number {
    const deadline = deadlineAfter(timeoutMs);
    let done = 0;
    while (done < records.length) {
      done += this.tryWriteBatch(records, done);
      if (done < records.length && !this.awaitRoomSync(this.spaceFor(records[done].length), deadline)) break;
    }
    return done;
  }

  /** Like writeSync for regions of a receive buffer. */
  writeRegionsSync(source: Bytes, offsets: Int32Array, lengths: Int32Array, count: number, timeoutMs?: number): number {
    const deadline = deadlineAfter(timeoutMs);
    let done = 0;
    while (done < count) {
      done += this.tryWriteRegions(source, offsets, lengths, done, count);
      if (done < count && !this.awaitRoomSync(this.spaceFor(lengths[done]), deadline)) break;
    }
    return done;
  }

  /** Writes one record, waiting without blocking the event loop. */
  async write(bytes: Bytes): Promise<void> {
    return this.writeBatch([bytes]);
  }

  /** Writes every record, waiting without blocking the event loop. */
  async writeBatch(records: readonly Bytes[]): Promise<void> {
    let done = 0;
    while (done < records.length) {
      done += this.tryWriteBatch(records, done);
      if (done < records.length) await this.awaitRoom(this.spaceFor(records[done].length));
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

  /**
   * Where a record of `length` bytes that starts at sequence `from` ends,
   * padding included; null when the slowest gating reader leaves no room.
   */
  private claim(from: number, length: number): number | null {
    const { mask, capacity, maxRecord } = this.ring;
    if (length > maxRecord) {
      throw new MsgmuxError(
        ErrorCode.RECORD_TOO_LARGE,
        `record of ${length} bytes is larger than a quarter of the ring (${maxRecord} bytes)`,
      );
    }
    const size = recordBytes(length);
    const at = from & mask;
    const end = (from + (capacity - at < size ? capacity - at : 0) + size) | 0;
    if (((this.limit - end) | 0) < 0 && !this.hasRoom((end - this.position) | 0)) return null;
    return end;
  }

  /** Copies one claimed record in at the write position; the tail is already out of its way. */
  private copyIn(source: Bytes, offset: number, length: number): void {
    const { i32, u8, mask, capacity, dataOffset } = this.ring;
    const size = recordBytes(length);
    let at = this.position & mask;
    const pad = capacity - at < size ? capacity - at : 0;
    const end = (this.position + pad + size) | 0;
    if (pad !== 0) {
      i32[(dataOffset + at) >> 2] = PAD;
      at = 0;
    }
    const word = (dataOffset + at) >> 2;
    i32[word] = length;
    i32[word + 1] = this.index;
    if (offset === 0 && length === source.length) u8.set(source, dataOffset + at + 8);
    else u8.set(source.subarray(offset, offset + length), dataOffset + at + 8);
    this.position = end;
    this.index = (this.index + 1) | 0;
    this.pending++;
  }

  /** Moves the tail past every record that bytes up to `end` will overwrite, before they are. */
  private moveTailBefore(end: number): void {
    const { i32, mask, capacity, dataOffset } = this.ring;
    let tail = this.tail;
    if (((end - tail) | 0) <= capacity) return;
    while (((end - tail) | 0) > capacity) {
      const at = tail & mask;
      const length = i32[(dataOffset + at) >> 2];
      tail = (tail + (length === PAD ? capacity - at : recordBytes(length))) | 0;
    }
    this.tail = tail;
    Atomics.store(i32, Header.TAIL, tail);
  }

  private publish(): void {
    const { i32, f64 } = this.ring;
    f64[Header.WRITTEN_F64_BYTE >> 3] += this.pending;
    this.pending = 0;
    Atomics.add(i32, Header.PUBLISH_VERSION, 1);
    Atomics.store(i32, Header.NEXT_INDEX, this.index);
    Atomics.store(i32, Header.WRITE_CURSOR, this.position);
    Atomics.add(i32, Header.PUBLISH_VERSION, 1);
    if (Atomics.load(i32, Header.READER_WAITERS) > 0) Atomics.notify(i32, Header.WRITE_CURSOR);
  }

  /** Bytes the next record of `length` needs at the current position, padding included. */
  private spaceFor(length: number): number {
    const at = this.position & this.ring.mask;
    const size = recordBytes(Math.min(length, this.ring.maxRecord));
    return this.ring.capacity - at < size ? this.ring.capacity - at + size : size;
  }

  /** Rescans the readers; evicts stalled `evict` readers that are in the way. */
  private hasRoom(space: number): boolean {
    const end = (this.position + space) | 0;
    this.limit = (this.position - this.gating.slowestLag(this.position) + this.ring.capacity) | 0;
    if (((this.limit - end) | 0) >= 0) return true;
    if (this.gating.evictStalled(end, Date.now()) === 0) return false;
    this.limit = (this.position - this.gating.slowestLag(this.position) + this.ring.capacity) | 0;
    return ((this.limit - end) | 0) >= 0;
  }

  private noticeJoins(): void {
    const epoch = Atomics.load(this.ring.i32, Header.JOIN_EPOCH);
    if (epoch !== this.epoch) {
      this.epoch = epoch;
      this.limit = this.position; // forces a rescan on the next write that needs room
    }
  }

  /**
   * Once it has to sleep, the writer waits for a quarter of the ring (or the
   * record, if larger), not for one record: one wake-up then pays for many
   * records, and the readers keep their cores instead of trading them with
   * the writer batch by batch. Readers signal when they cross `WRITER_WAKE_AT`.
   */
  private startWaiting(space: number): number {
    const { i32, capacity } = this.ring;
    const wanted = Math.max(space, capacity >>> 2);
    Atomics.store(i32, Header.WRITER_WAKE_AT, (this.position + wanted - capacity) | 0);
    Atomics.store(i32, Header.WRITER_WAITING, 1);
    return wanted;
  }

  /** Room for the next record (evicting what blocks it), and for all the writer waits for. */
  private hasWantedRoom(space: number, wanted: number): boolean {
    return this.hasRoom(space) && ((this.limit - this.position - wanted) | 0) >= 0;
  }

  private awaitRoomSync(space: number, deadline: number): boolean {
    const { i32 } = this.ring;
    if (spin(() => this.hasRoom(space))) return true;
    const wanted = this.startWaiting(space);
    try {
      for (;;) {
        const signal = Atomics.load(i32, Header.GATE_SIGNAL);
        if (this.hasWantedRoom(space, wanted)) return true;
        const left = remaining(deadline);
        if (left === 0) return this.hasRoom(space);
        sleepSync(i32, Header.GATE_SIGNAL, signal, Math.min(left, this.gating.nextEvictionIn(Date.now())));
      }
    } finally {
      Atomics.store(i32, Header.WRITER_WAITING, 0);
    }
  }

  private async awaitRoom(space: number): Promise<void> {
    const { i32 } = this.ring;
    const wanted = this.startWaiting(space);
    try {
      for (;;) {
        this.checkOpen();
        const signal = Atomics.load(i32, Header.GATE_SIGNAL);
        if (this.hasWantedRoom(space, wanted)) return;
        await sleepAsync(i32, Header.GATE_SIGNAL, signal, this.gating.nextEvictionIn(Date.now()));
      }
    } finally {
      Atomics.store(i32, Header.WRITER_WAITING, 0);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new MsgmuxError(ErrorCode.WRITER_CLOSED, 'the ring writer is closed');
  }
}
