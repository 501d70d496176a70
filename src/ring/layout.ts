/**
 * Where everything lives inside the ring's SharedArrayBuffer.
 *
 *   header (512 B) | reader slots (64 B each) | data (capacity bytes)
 *
 * All control words are Int32 so that Atomics work on them. Words that
 * different threads write sit on different 64-byte lines, so a reader
 * releasing its cursor never invalidates the line the writer publishes on.
 *
 * Sequences are byte positions that grow forever modulo 2^32 (see
 * sequence.ts for their arithmetic). A sequence's place in the data area is
 * `sequence & (capacity - 1)`.
 *
 * Names: a *reader slot* (`readerSlot`) is a reader's number, 0 to
 * maxReaders - 1; `slotBase(readerSlot)` is the Int32 word where its 64-byte
 * slot starts. A *record number* is a record's place in the stream.
 */

import type { ProcessWaits } from './process-waits';

export const MAGIC = 0x6d78_7231; // "mxr1"
export const VERSION = 2;

const LINE = 16; // Int32 words per 64-byte cache line

/** Header words (Int32 indexes into the buffer). */
export const Header = {
  MAGIC: 0,
  VERSION: 1,
  CAPACITY: 2,
  MAX_READERS: 3,
  DATA_OFFSET: 4,
  /** Readers bump this when they join, so the writer rescans its gating set. */
  JOIN_EPOCH: 5,
  /** One past the highest slot ever claimed: the writer scans no further. */
  SLOT_HIGH_WATER: 6,
  /**
   * Process slots (a ring in shared memory, see src/shm): reader slots that
   * readers in other processes own, each alone on its own page. The first,
   * the distance between two (in slots), and how many; 0 for a thread ring.
   */
  PROCESS_SLOT_FIRST: 7,
  PROCESS_SLOT_STRIDE: 8,
  PROCESS_SLOT_COUNT: 9,
  /**
   * The guard of process slot k is reader slot PROCESS_GUARD_FIRST + k, on
   * the owner's pages (read-only to every reader process): the writer keeps
   * the slot's state, policy and budget there, so the reader, which owns its
   * slot's page, can write only its cursor (and its sleep flag) to any effect.
   */
  PROCESS_GUARD_FIRST: 10,

  /** Published end of data: everything before it is readable. Written by the writer only. */
  WRITE_CURSOR: 1 * LINE,
  /** Start of the oldest record still intact. Moved forward before bytes are overwritten. */
  TAIL: 1 * LINE + 1,
  /** Records published so far, as a Float64 (byte offset). */
  WRITTEN_F64_BYTE: (1 * LINE + 2) * 4,
  /** Record number the next record will carry, so a writer taken over later continues the stream. */
  NEXT_RECORD_NUMBER: 1 * LINE + 4,
  /** Odd while the writer publishes: a joining reader reads cursor and record number as one pair. */
  PUBLISH_VERSION: 1 * LINE + 5,

  /** threadId + 1 of the thread holding the writer, 0 when free. */
  WRITER_OWNER: 2 * LINE,
  /** Set while the writer waits for readers to make room: backpressure, for monitoring and for readers' release. */
  WRITER_WAITING: 2 * LINE + 1,
  /** Bumped by readers when they make room for a waiting writer; the writer sleeps on it. */
  GATE_SIGNAL: 2 * LINE + 2,
  /** Readers evicted for stalling past their budget, since creation. */
  EVICTIONS: 2 * LINE + 3,
  /**
   * While the writer sleeps: the sequence the slowest gating cursor must pass
   * for the writer to have the room it waits for. Readers signal only on crossing it.
   */
  WRITER_WAKE_AT: 2 * LINE + 4,

  /** Bumped by the writer each time it is about to sleep on GATE_SIGNAL (see wait-strategy.ts). */
  WRITER_SLEEPS: 2 * LINE + 5,

  /** Bumped by a reader each time it is about to sleep on WRITE_CURSOR (see wait-strategy.ts). */
  READER_SLEEPS: 3 * LINE,
} as const;

export const HEADER_BYTES = 8 * LINE * 4;

/** One reader slot: 64 bytes, Int32 words relative to `slotBase(readerSlot)`. */
export const Slot = {
  STATE: 0,
  CURSOR: 1,
  POLICY: 2,
  /** threadId of the thread that owns the reader, so a dead thread's slots can be reclaimed. */
  OWNER: 3,
  /** Stall budget in ms for the `evict` policy. */
  BUDGET_MS: 4,
  /** Process slots only: bumped by the reader before each sleep (it cannot write the header's READER_SLEEPS). */
  SLEEPS: 5,
  /** Float64 counters written by the owner only (byte offsets within the slot), published with the cursor. */
  DELIVERED_F64_BYTE: 32,
  LOST_F64_BYTE: 40,
} as const;

/**
 * A process slot's guard (Header.PROCESS_GUARD_FIRST): its own STATE word
 * stays RESERVED, so no scan takes it for a reader; the process slot's state
 * is kept in the guard's word GUARD_STATE, policy and budget at Slot.POLICY
 * and Slot.BUDGET_MS. A process slot counts as active only while both its
 * own state and its guard's say so.
 */
export const GUARD_STATE = 1;

export const SLOT_BYTES = LINE * 4;
export const SLOT_WORDS = LINE;

/** RESERVED: never claimed by `ring.reader()` (process slots not in use, and the rest of their pages). */
export const SlotState = { FREE: 0, ACTIVE: 1, EVICTED: 2, CLAIMING: 3, RESERVED: 4 } as const;

export const PolicyCode = { block: 0, drop: 1, evict: 2 } as const;
export type ReaderPolicy = keyof typeof PolicyCode;
export const policyName = (code: number): ReaderPolicy =>
  (Object.keys(PolicyCode) as ReaderPolicy[]).find((name) => PolicyCode[name] === code) ?? 'block';

/**
 * A record is `[length: i32][record number: i32][payload][pad to 8]`. The
 * record number is its place in the stream (mod 2^32): a lapped reader learns
 * exactly how many records it lost from the gap in numbers. A length of PAD marks the
 * unused end of the data area when the next record did not fit before it.
 */
export const RECORD_HEADER_BYTES = 8;
export const PAD = -1;

export const MIN_CAPACITY = 1 << 10;
export const MAX_CAPACITY = 1 << 30;
export const DEFAULT_MAX_READERS = 64;
export const MAX_READERS_LIMIT = 1024;

/** `n` rounded up to a multiple of 8: records (and pooled copies) start 8-byte aligned. */
export const align8 = (n: number): number => (n + 7) & ~7;
export const recordBytes = (payloadLength: number): number => align8(RECORD_HEADER_BYTES + payloadLength);

/** The Int32 word where reader slot `readerSlot` starts. */
export const slotBase = (readerSlot: number): number => (HEADER_BYTES + readerSlot * SLOT_BYTES) >> 2;
/** The Float64 index of a slot's counter (`Slot.DELIVERED_F64_BYTE` or `Slot.LOST_F64_BYTE`). */
export const slotCounter = (readerSlot: number, counterByte: number): number =>
  (HEADER_BYTES + readerSlot * SLOT_BYTES + counterByte) >> 3;

export function dataOffsetFor(maxReaders: number): number {
  return HEADER_BYTES + maxReaders * SLOT_BYTES;
}

/** The largest payload a ring of this capacity accepts: a quarter of it. */
export const maxRecordFor = (capacity: number): number => capacity >>> 2;

/** Typed views over one ring buffer, shared by the writer and every reader in a thread. */
export interface RingViews {
  readonly buffer: SharedArrayBuffer;
  readonly i32: Int32Array;
  readonly u8: Uint8Array;
  readonly f64: Float64Array;
  readonly capacity: number;
  readonly mask: number;
  readonly dataOffset: number;
  readonly maxReaders: number;
  readonly maxRecord: number;
  /** Futex calls when other processes read the ring (src/shm); null for a ring of threads. */
  readonly processWaits: ProcessWaits | null;
}
