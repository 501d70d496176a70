/**
 * A SharedArrayBuffer ring: one writer, many readers, each in any thread.
 *
 *   const ring = Ring.create({ capacity: 8 << 20 });
 *   new Worker(file, { workerData: ring.buffer });   // there: Ring.attach(workerData)
 *   const w = ring.writer();  w.tryWrite(bytes)
 *   const r = ring.reader({ start: 'earliest', policy: 'block' });  r.readSync()
 *
 * The ring has no I/O. Its state lives entirely in the buffer, so every
 * thread that attaches sees the same writer lock, reader slots and cursors.
 */
import { threadId, type Worker } from 'node:worker_threads';
import { ErrorCode, MsgmuxError } from '../errors';
import {
  DEFAULT_MAX_READERS,
  GUARD_STATE,
  Header,
  MAGIC,
  MAX_CAPACITY,
  MAX_READERS_LIMIT,
  MIN_CAPACITY,
  PolicyCode,
  Slot,
  SlotState,
  VERSION,
  dataOffsetFor,
  maxRecordFor,
  policyName,
  slotBase,
  slotCounter,
  type ReaderPolicy,
  type RingViews,
} from './layout';
import { processSlots, processWaits, ringSleeper } from './process-waits';
import { DEFAULT_BATCH, RingReader } from './reader';
import { forEachReaderSlot, guardBase } from './reader-slots';
import { seqDiff } from './sequence';
import { RingWriter } from './writer';

export interface RingOptions {
  /** Data bytes: a power of two from 1 KiB to 1 GiB. Records up to a quarter of it are accepted. */
  capacity: number;
  /** Reader slots (default 64). */
  maxReaders?: number;
}

export interface ReaderOptions {
  /** `latest` (default): records written from now on. `earliest`: the oldest record still intact. */
  start?: 'latest' | 'earliest';
  /** `block` (default, lossless, gates the writer), `drop` (never gates, counts what it loses), `evict`. */
  policy?: ReaderPolicy;
  /** For `evict`: how long the reader may hold the writer back before it is evicted (default 5000 ms). */
  evictAfterMs?: number;
  /** Most records one peek returns (default 256). */
  maxBatch?: number;
}

export interface ReaderSnapshot {
  /** The reader's slot number (`reader.readerSlot`). */
  readerSlot: number;
  /** @deprecated The same as `readerSlot`. */
  slot: number;
  state: 'active' | 'evicted';
  policy: ReaderPolicy;
  owner: number;
  /** As of the reader's last release to the writer (see reader.ts: readers release lazily). */
  delivered: number;
  lost: number;
  /** Bytes published that this reader has not released to the writer. */
  lag: number;
}

const READER_STATES: Record<number, ReaderSnapshot['state']> = {
  [SlotState.ACTIVE]: 'active',
  [SlotState.EVICTED]: 'evicted',
};

export class Ring {
  private constructor(private readonly views: RingViews) {}

  static create(options: RingOptions): Ring {
    const capacity = options?.capacity;
    const maxReaders = options?.maxReaders ?? DEFAULT_MAX_READERS;
    if (!Number.isInteger(capacity) || capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || (capacity & (capacity - 1)) !== 0) {
      throw new MsgmuxError(
        ErrorCode.RING_CAPACITY,
        `ring capacity must be a power of two from ${MIN_CAPACITY} to ${MAX_CAPACITY} bytes (got ${capacity})`,
      );
    }
    if (!Number.isInteger(maxReaders) || maxReaders < 1 || maxReaders > MAX_READERS_LIMIT) {
      throw new MsgmuxError(ErrorCode.RING_READERS, `maxReaders must be an integer from 1 to ${MAX_READERS_LIMIT} (got ${maxReaders})`);
    }
    const buffer = new SharedArrayBuffer(dataOffsetFor(maxReaders) + capacity);
    return Ring.format(buffer, capacity, maxReaders, null);
  }

  /**
   * Writes a new ring's header into `buffer` (zeroed memory of at least
   * dataOffsetFor(maxReaders) + capacity bytes, e.g. a shared-memory file)
   * and opens it. With `processSlots`, reader slots first + k * stride
   * (k < count) are for readers in other processes: they are RESERVED (no
   * `ring.reader()` takes them) until `activateProcessSlot`, as is every slot
   * from `first` on. For src/shm, which checks the layout; no checks here.
   */
  static format(
    buffer: SharedArrayBuffer,
    capacity: number,
    maxReaders: number,
    processSlots: { first: number; stride: number; count: number; guardFirst: number } | null,
  ): Ring {
    const i32 = new Int32Array(buffer);
    i32[Header.CAPACITY] = capacity;
    i32[Header.MAX_READERS] = maxReaders;
    i32[Header.DATA_OFFSET] = dataOffsetFor(maxReaders);
    i32[Header.VERSION] = VERSION;
    if (processSlots !== null) {
      i32[Header.PROCESS_SLOT_FIRST] = processSlots.first;
      i32[Header.PROCESS_SLOT_STRIDE] = processSlots.stride;
      i32[Header.PROCESS_SLOT_COUNT] = processSlots.count;
      i32[Header.PROCESS_GUARD_FIRST] = processSlots.guardFirst;
      const guards = Array.from({ length: processSlots.count }, (_, k) => processSlots.guardFirst + k);
      for (const readerSlot of [...guards, ...Array.from({ length: maxReaders - processSlots.first }, (_, k) => processSlots.first + k)]) {
        i32[slotBase(readerSlot) + Slot.OWNER] = -1;
        i32[slotBase(readerSlot) + Slot.STATE] = SlotState.RESERVED;
      }
    }
    Atomics.store(i32, Header.MAGIC, MAGIC);
    return Ring.attach(buffer);
  }

  /** Opens a ring made by `Ring.create`, typically in another worker thread. */
  static attach(buffer: SharedArrayBuffer): Ring {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < dataOffsetFor(1) + MIN_CAPACITY) {
      throw new MsgmuxError(ErrorCode.RING_INVALID, 'Ring.attach needs the SharedArrayBuffer of a ring (ring.buffer)');
    }
    const i32 = new Int32Array(buffer);
    if (Atomics.load(i32, Header.MAGIC) !== MAGIC || i32[Header.VERSION] !== VERSION) {
      throw new MsgmuxError(ErrorCode.RING_INVALID, 'this SharedArrayBuffer does not hold a msgmux ring of this version');
    }
    const capacity = i32[Header.CAPACITY];
    const shared = i32[Header.PROCESS_SLOT_COUNT] > 0;
    return new Ring({
      buffer,
      i32,
      u8: new Uint8Array(buffer),
      f64: new Float64Array(buffer, 0, buffer.byteLength >> 3),
      capacity,
      mask: capacity - 1,
      dataOffset: i32[Header.DATA_OFFSET],
      maxReaders: i32[Header.MAX_READERS],
      maxRecord: maxRecordFor(capacity),
      processWaits: shared ? processWaits() : null,
    });
  }

  get buffer(): SharedArrayBuffer {
    return this.views.buffer;
  }

  get capacity(): number {
    return this.views.capacity;
  }

  /** The largest record accepted, in bytes. */
  get maxRecord(): number {
    return this.views.maxRecord;
  }

  /** Records published since the ring was created. */
  get written(): number {
    return this.views.f64[Header.WRITTEN_F64_BYTE >> 3];
  }

  /** True while the writer sleeps waiting for a gating reader to make room: backpressure, seen from any thread. */
  get writerWaiting(): boolean {
    return Atomics.load(this.views.i32, Header.WRITER_WAITING) !== 0;
  }

  /** Readers evicted for stalling past their budget. */
  get evictions(): number {
    return Atomics.load(this.views.i32, Header.EVICTIONS);
  }

  /** Takes the ring's one writer. Throws if another thread (or this one) holds it. */
  writer(): RingWriter {
    const { i32 } = this.views;
    const holder = Atomics.compareExchange(i32, Header.WRITER_OWNER, 0, threadId + 1);
    if (holder !== 0) {
      throw new MsgmuxError(ErrorCode.WRITER_TAKEN, `the ring already has a writer (thread ${holder - 1}); close it first`);
    }
    return new RingWriter(this.views);
  }

  /** Joins the ring as a reader in a free slot. */
  reader(options: ReaderOptions = {}): RingReader {
    const { start = 'latest', policy = 'block', evictAfterMs = 5000, maxBatch = DEFAULT_BATCH } = options;
    if (start !== 'latest' && start !== 'earliest') {
      throw new MsgmuxError(ErrorCode.READER_OPTION, `reader start must be "latest" or "earliest" (got ${String(start)})`);
    }
    if (!(policy in PolicyCode)) {
      throw new MsgmuxError(ErrorCode.READER_OPTION, `reader policy must be block, drop or evict (got ${String(policy)})`);
    }
    if (!Number.isInteger(maxBatch) || maxBatch < 1) {
      throw new MsgmuxError(ErrorCode.READER_OPTION, `maxBatch must be a positive integer (got ${maxBatch})`);
    }
    const { i32, maxReaders } = this.views;
    const threadSlots = i32[Header.PROCESS_SLOT_COUNT] > 0 ? i32[Header.PROCESS_SLOT_FIRST] : maxReaders;
    for (let readerSlot = 0; readerSlot < threadSlots; readerSlot++) {
      if (Atomics.compareExchange(i32, slotBase(readerSlot) + Slot.STATE, SlotState.FREE, SlotState.CLAIMING) !== SlotState.FREE) continue;
      const firstRecord = this.join(readerSlot, threadId, policy, start, evictAfterMs);
      return new RingReader(this.views, readerSlot, policy, maxBatch, firstRecord, start);
    }
    throw new MsgmuxError(ErrorCode.RING_FULL, `all ${threadSlots} reader slots are taken`);
  }

  /**
   * Puts a reserved process slot in use for a reader in process `pid`, as
   * `ring.reader()` joins (the caller has mapped that reader's own page
   * there). Returns false if the slot is not reserved.
   */
  activateProcessSlot(readerSlot: number, pid: number, options: Omit<ReaderOptions, 'maxBatch'> = {}): boolean {
    const { start = 'latest', policy = 'block', evictAfterMs = 5000 } = options;
    const { i32 } = this.views;
    if (!processSlots(this.views).includes(readerSlot)) return false;
    if (Atomics.compareExchange(i32, slotBase(readerSlot) + Slot.STATE, SlotState.RESERVED, SlotState.CLAIMING) !== SlotState.RESERVED) return false;
    // The guard first: what the writer believes of this slot, out of its reader's reach.
    const guard = guardBase(this.views, readerSlot);
    i32[guard + Slot.POLICY] = PolicyCode[policy];
    i32[guard + Slot.BUDGET_MS] = Math.max(0, Math.min(evictAfterMs, 0x7fffffff));
    Atomics.store(i32, guard + GUARD_STATE, SlotState.ACTIVE);
    this.join(readerSlot, -pid, policy, start, evictAfterMs); // negative: never a threadId that reclaim() frees
    return true;
  }

  /** The reader of a process slot that the ring's owner activated for this process (src/shm). */
  processReader(readerSlot: number, maxBatch = DEFAULT_BATCH): RingReader {
    const { i32 } = this.views;
    const base = slotBase(readerSlot);
    if (!processSlots(this.views).includes(readerSlot) || Atomics.load(i32, base + Slot.STATE) !== SlotState.ACTIVE) {
      throw new MsgmuxError(ErrorCode.READER_RECLAIMED, `reader slot ${readerSlot} is not an active process slot of this ring`);
    }
    return new RingReader(this.views, readerSlot, policyName(i32[guardBase(this.views, readerSlot) + Slot.POLICY]), maxBatch, null, 'earliest', true);
  }

  /** Joins `readerSlot` (already CLAIMING); returns the first record number for a `latest` join. */
  private join(readerSlot: number, owner: number, policy: ReaderPolicy, start: 'latest' | 'earliest', evictAfterMs: number): number | null {
    const { i32 } = this.views;
    const base = slotBase(readerSlot);
    i32[base + Slot.POLICY] = PolicyCode[policy];
    i32[base + Slot.OWNER] = owner;
    i32[base + Slot.BUDGET_MS] = Math.max(0, Math.min(evictAfterMs, 0x7fffffff));
    this.views.f64.fill(0, slotCounter(readerSlot, Slot.DELIVERED_F64_BYTE), slotCounter(readerSlot, Slot.LOST_F64_BYTE) + 1);
    Atomics.store(i32, base + Slot.CURSOR, Atomics.load(i32, start === 'latest' ? Header.WRITE_CURSOR : Header.TAIL));
    this.raiseHighWater(readerSlot + 1);
    Atomics.store(i32, base + Slot.STATE, SlotState.ACTIVE);
    Atomics.add(i32, Header.JOIN_EPOCH, 1);
    // Joined at `latest`: anything published while we joined was not ours to see, and the
    // writer cannot have overwritten it, so start after it — knowing the record number there,
    // so a lap before the first read is counted as lost. `earliest` readers that lose the race
    // with a writer that has not noticed them yet skip to the tail on their first peek.
    if (start !== 'latest') return null;
    const [cursor, recordNumber] = this.publishedPair();
    Atomics.store(i32, base + Slot.CURSOR, cursor);
    return recordNumber;
  }

  /**
   * Frees every reader slot (and the writer) held by thread `owner`, so a
   * thread that died without closing its readers stops gating the writer.
   * Returns how many slots it freed.
   */
  reclaim(owner: number): number {
    const { i32 } = this.views;
    let freed = 0;
    forEachReaderSlot(this.views, (_readerSlot, base, state) => {
      if (i32[base + Slot.OWNER] !== owner) return;
      if (Atomics.compareExchange(i32, base + Slot.STATE, state, SlotState.FREE) === state) freed++;
    });
    Atomics.compareExchange(i32, Header.WRITER_OWNER, owner + 1, 0);
    this.signalWriter();
    return freed;
  }

  /** Wakes the writer to rescan its readers (a slot was freed or reclaimed). */
  signalWriter(): void {
    Atomics.add(this.views.i32, Header.GATE_SIGNAL, 1);
    ringSleeper(this.views).notify(this.views.i32, Header.GATE_SIGNAL);
  }

  /**
   * Wakes every reader sleeping for records without publishing any: a reader
   * whose slot was taken back learns it at once rather than at its next wake,
   * and one whose owner asked it to stop re-checks peekSync's `until`. Readers
   * sleep on the write cursor, which this does not change: a wake that comes
   * between a reader's last check and its sleep is missed, so whoever waits
   * for a reader to notice something else than a take-back calls this again
   * until it has.
   */
  wakeReaders(): void {
    ringSleeper(this.views).notify(this.views.i32, Header.WRITE_CURSOR);
  }

  /** Reclaims a worker's slots when it exits, however it exits. */
  reclaimOnExit(worker: Worker): void {
    const owner = worker.threadId;
    worker.once('exit', () => this.reclaim(owner));
  }

  /** A cheap snapshot of every reader, for stats: plain loads, no locks. */
  readers(): ReaderSnapshot[] {
    const { i32, f64 } = this.views;
    const out: ReaderSnapshot[] = [];
    forEachReaderSlot(this.views, (readerSlot, base, code, control) => {
      const state = READER_STATES[code];
      if (state === undefined) return;
      // The cursor first, then the write cursor: a reader never passes the writer, so the lag is never
      // negative (with the write cursor loaded once before the scan, a reader that moved on since read as -8 KiB).
      const cursor = Atomics.load(i32, base + Slot.CURSOR);
      const published = Atomics.load(i32, Header.WRITE_CURSOR);
      out.push({
        readerSlot,
        slot: readerSlot,
        state,
        policy: policyName(i32[control + Slot.POLICY]),
        owner: i32[base + Slot.OWNER],
        delivered: f64[slotCounter(readerSlot, Slot.DELIVERED_F64_BYTE)],
        lost: f64[slotCounter(readerSlot, Slot.LOST_F64_BYTE)],
        lag: seqDiff(published, cursor),
      });
    });
    return out;
  }

  /** The write cursor and the number of the record that will start there, read as one pair. */
  private publishedPair(): [cursor: number, recordNumber: number] {
    const { i32 } = this.views;
    for (;;) {
      const version = Atomics.load(i32, Header.PUBLISH_VERSION);
      if ((version & 1) !== 0) continue;
      const cursor = Atomics.load(i32, Header.WRITE_CURSOR);
      const recordNumber = Atomics.load(i32, Header.NEXT_RECORD_NUMBER);
      if (Atomics.load(i32, Header.PUBLISH_VERSION) === version) return [cursor, recordNumber];
    }
  }

  private raiseHighWater(atLeast: number): void {
    const { i32 } = this.views;
    for (;;) {
      const current = Atomics.load(i32, Header.SLOT_HIGH_WATER);
      if (current >= atLeast || Atomics.compareExchange(i32, Header.SLOT_HIGH_WATER, current, atLeast) === current) return;
    }
  }
}
