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
import { nowMicros } from '../wire/header';
import { recordSizeFor, STAMP_BYTES } from './ring-records';
import { SharedState } from './shared-state';

export interface IngestTask {
  ring: SharedArrayBuffer;
  /** The daemon's SharedState buffer. */
  shared: SharedArrayBuffer;
  queue: string;
  messageSize: number;
}

export interface IngestReport {
  ingested: number;
  /** Taken off the queue but never written, because the daemon gave up waiting. */
  abandoned: number;
}

/** The values of SharedState.ingestState, and their names in stats (same order). */
export const IngestState = { STARTING: 0, WAITING_FOR_SINKS: 1, READING: 2, STOPPED: 3, WAITING_FOR_ROOM: 4 } as const;
export const INGEST_STATE_NAMES = ['starting', 'waiting for a sink', 'reading', 'stopped', 'waiting for the slowest sink'] as const;

const BATCH = 64;
const WAIT_MS = 100;

export function ingest(task: IngestTask): IngestReport {
  const shared = new SharedState(task.shared);
  const writer = Ring.attach(task.ring).writer();
  const queue = MessageQueue.open(task.queue, { read: true, write: false });
  // Each slot is a ring record in the making: the ingest stamp, then the message received after it.
  const slot = align8(recordSizeFor(task.messageSize));
  // The kernel may write up to a slot from each message's start: room for the last one's tail.
  const scratch = new Uint8Array(BATCH * slot + STAMP_BYTES);
  const stamps = new Float64Array(scratch.buffer);
  const offsets = Int32Array.from({ length: BATCH }, (_, k) => k * slot);
  const lengths = new Int32Array(BATCH);
  let abandoned = 0;
  try {
    while (shared.ingestStop === 0) {
      if (shared.liveSinks === 0) {
        shared.ingestState = IngestState.WAITING_FOR_SINKS;
        shared.waitForLiveSinks(WAIT_MS);
        continue;
      }
      shared.ingestState = IngestState.READING;
      const taken = queue.receiveBatch(scratch, STAMP_BYTES, slot, BATCH, lengths, null, WAIT_MS);
      const stamp = nowMicros();
      for (let k = 0; k < taken; k++) {
        stamps[(k * slot) >> 3] = stamp;
        lengths[k] += STAMP_BYTES;
      }
      let written = writer.tryWriteRegions(scratch, offsets, lengths, 0, taken);
      if (written < taken) shared.ingestState = IngestState.WAITING_FOR_ROOM;
      // Taken off the queue means accepted: keep trying through a stop request, until the
      // main thread's drain deadline says to abandon it.
      while (written < taken && shared.ingestStop < 2) {
        written += writer.writeRegionsSync(scratch, offsets.subarray(written), lengths.subarray(written), taken - written, WAIT_MS);
      }
      shared.addIngested(written);
      abandoned += taken - written;
    }
  } finally {
    shared.ingestState = IngestState.STOPPED;
    writer.close();
    queue.close();
  }
  return { ingested: shared.ingested, abandoned };
}
