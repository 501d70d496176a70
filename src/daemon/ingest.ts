/**
 * Ingest: the ring's one writer. Takes batches off the POSIX queue and
 * writes them into the ring, in the order the kernel hands them out (highest
 * priority first). Runs in its own thread (workers/ingest.ts), started by
 * the daemon with an IngestTask; it posts one IngestReport when it stops.
 *
 * With no live sink it stops reading, so the queue fills and publishers
 * block: at least one receiver gets everything. When the slowest gating sink
 * is a ring behind, the write waits, the queue fills, and publishers block
 * again: backpressure reaches them through the kernel. What it has taken off
 * the queue it writes before it stops, unless told to abandon it.
 */
import { MessageQueue } from '../native';
import { Ring } from '../ring';
import { align8 } from '../ring/layout';
import { decodeFrame, FrameIndex, nowMicros } from '../wire';
import { recordSizeFor, STAMP_BYTES } from './ring-records';
import { SharedState } from './shared-state';

export interface IngestTask {
  ring: SharedArrayBuffer;
  /** The daemon's SharedState buffer. */
  shared: SharedArrayBuffer;
  queue: string;
  /** The packed queue to ingest too (src/wire/packed.ts), or null. */
  packedQueue: string | null;
  messageSize: number;
}

export interface IngestReport {
  ingested: number;
  /** Taken off the queue but never written, because the daemon gave up waiting. */
  abandoned: number;
  /** Packed queue messages that were not msgmux frames: dropped. */
  malformedPacked: number;
}

/** The values of SharedState.ingestState, and their names in stats (same order). */
export const IngestState = { STARTING: 0, WAITING_FOR_SINKS: 1, READING: 2, STOPPED: 3, WAITING_FOR_ROOM: 4 } as const;
export const INGEST_STATE_NAMES = ['starting', 'waiting for a sink', 'reading', 'stopped', 'waiting for the slowest sink'] as const;

const BATCH = 64;
/** Packed queue messages taken per receive: each may hold hundreds of messages. */
const PACKED_BATCH = 8;
const WAIT_MS = 100;

/** Writes records into the ring, waiting for room; returns how many were written before an abandon. */
type WriteAll = (source: Uint8Array, offsets: Int32Array, lengths: Int32Array, count: number) => number;

/** Takes plain messages off the bus queue into ring records: the stamp, then the message as it came. */
class PlainSource {
  private readonly slot: number;
  private readonly scratch: Uint8Array;
  private readonly stamps: Float64Array;
  private readonly offsets: Int32Array;
  private readonly lengths = new Int32Array(BATCH);

  constructor(readonly queue: MessageQueue, messageSize: number) {
    this.slot = align8(recordSizeFor(messageSize));
    // The kernel may write up to a slot from each message's start: room for the last one's tail.
    this.scratch = new Uint8Array(BATCH * this.slot + STAMP_BYTES);
    this.stamps = new Float64Array(this.scratch.buffer);
    this.offsets = Int32Array.from({ length: BATCH }, (_, k) => k * this.slot);
  }

  /** Takes what is queued (waiting up to waitMs for the first) and writes it; returns [taken, written]. */
  drain(waitMs: number, write: WriteAll): [number, number] {
    const { slot, lengths } = this;
    const taken = this.queue.receiveBatch(this.scratch, STAMP_BYTES, slot, BATCH, lengths, null, waitMs);
    const stamp = nowMicros();
    for (let k = 0; k < taken; k++) {
      this.stamps[(k * slot) >> 3] = stamp;
      lengths[k] += STAMP_BYTES;
    }
    return [taken, taken === 0 ? 0 : write(this.scratch, this.offsets, lengths, taken)];
  }
}

/** Takes packed messages (frames) off the packed queue and writes each message in them as its own record. */
class PackedSource {
  private readonly slot: number;
  private readonly scratch: Uint8Array;
  private readonly lengths = new Int32Array(PACKED_BATCH);
  private readonly index = new FrameIndex(1024);
  private records: Uint8Array;
  private recordOffsets = new Int32Array(1024);
  private recordLengths = new Int32Array(1024);
  /** Packed queue messages that were not frames: dropped whole. */
  malformed = 0;

  constructor(readonly queue: MessageQueue, messageSize: number) {
    this.slot = align8(messageSize);
    this.scratch = new Uint8Array(PACKED_BATCH * this.slot);
    this.records = new Uint8Array(PACKED_BATCH * this.slot * 3);
  }

  /** Like PlainSource.drain; counts are of the messages inside. */
  drain(waitMs: number, write: WriteAll): [number, number] {
    const { slot, lengths, index } = this;
    const taken = this.queue.receiveBatch(this.scratch, 0, slot, PACKED_BATCH, lengths, null, waitMs);
    if (taken === 0) return [0, 0];
    index.clear();
    for (let k = 0; k < taken; k++) {
      try {
        decodeFrame(this.scratch, k * slot, lengths[k], index);
      } catch {
        this.malformed++;
      }
    }
    const count = this.stage(index);
    return [count, count === 0 ? 0 : write(this.records, this.recordOffsets, this.recordLengths, count)];
  }

  /** Lays the decoded messages out as ring records (stamp + message), 8-aligned. */
  private stage(index: FrameIndex): number {
    const count = index.count;
    let bytes = 0;
    for (let k = 0; k < count; k++) bytes += align8(recordSizeFor(index.lengths[k]));
    if (bytes > this.records.length) this.records = new Uint8Array(bytes);
    if (count > this.recordOffsets.length) {
      this.recordOffsets = new Int32Array(count);
      this.recordLengths = new Int32Array(count);
    }
    const stamps = new Float64Array(this.records.buffer, 0, this.records.length >> 3);
    const stamp = nowMicros();
    let at = 0;
    for (let k = 0; k < count; k++) {
      stamps[at >> 3] = stamp;
      this.records.set(this.scratch.subarray(index.offsets[k], index.offsets[k] + index.lengths[k]), at + STAMP_BYTES);
      this.recordOffsets[k] = at;
      this.recordLengths[k] = recordSizeFor(index.lengths[k]);
      at += align8(this.recordLengths[k]);
    }
    return count;
  }
}

export function ingest(task: IngestTask): IngestReport {
  const shared = new SharedState(task.shared);
  const writer = Ring.attach(task.ring).writer();
  const plain = new PlainSource(MessageQueue.open(task.queue, { read: true, write: false }), task.messageSize);
  const packed = task.packedQueue === null ? null : new PackedSource(MessageQueue.open(task.packedQueue, { read: true, write: false }), task.messageSize);
  const queues = packed === null ? [plain.queue] : [plain.queue, packed.queue];
  let abandoned = 0;
  let ready = 3;
  // Taken off the queue means accepted: keep trying through a stop request, until the
  // main thread's drain deadline says to abandon it.
  const write: WriteAll = (source, offsets, lengths, count) => {
    let written = writer.tryWriteRegions(source, offsets, lengths, 0, count);
    if (written < count) shared.ingestState = IngestState.WAITING_FOR_ROOM;
    while (written < count && shared.ingestStop < 2) {
      written += writer.writeRegionsSync(source, offsets.subarray(written), lengths.subarray(written), count - written, WAIT_MS);
    }
    return written;
  };
  const account = ([taken, written]: [number, number]): number => {
    shared.addIngested(written);
    abandoned += taken - written;
    return taken;
  };
  try {
    while (shared.ingestStop === 0) {
      if (shared.liveSinks === 0) {
        shared.ingestState = IngestState.WAITING_FOR_SINKS;
        shared.waitForLiveSinks(WAIT_MS);
        continue;
      }
      shared.ingestState = IngestState.READING;
      if (packed === null) {
        account(plain.drain(WAIT_MS, write));
        continue;
      }
      // Two queues: take what the ready ones hold; a queue found empty is not ready until
      // poll says so, and the thread sleeps (on both at once) only when neither is ready.
      if ((ready & 1) !== 0 && account(plain.drain(0, write)) === 0) ready &= ~1;
      if ((ready & 2) !== 0 && account(packed.drain(0, write)) === 0) ready &= ~2;
      if (ready === 0) ready = MessageQueue.poll(queues, WAIT_MS);
    }
  } finally {
    shared.ingestState = IngestState.STOPPED;
    writer.close();
    for (const queue of queues) queue.close();
  }
  return { ingested: shared.ingested, abandoned, malformedPacked: packed?.malformed ?? 0 };
}
