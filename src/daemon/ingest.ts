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
 *
 * Other sources (the packed queue, multicast groups, the NATS bridge's
 * channel: src/source/) feed the ring through this same writer; with any of
 * them, ingest polls every descriptor and takes from whichever is ready.
 * Each record is the bare message; its origin and ingest stamp go in the
 * record table beside the ring (src/source/record-meta.ts).
 */
// The daemon's ring may be in shared memory (config shm): its waits are then futex(2).
import '../shm/futex-waits';
import { clearDoorbell, MessageQueue } from '../native';
import { Ring } from '../ring';
import { align8 } from '../ring/layout';
import { IngestSources, type IngestSourcesTask } from '../source/ingest-sources';
import { Origin, type OriginCode } from '../source/record-meta';
import { SharedState } from './shared-state';

/** The sources beside the queue (the packed queue, multicast, the NATS channel) are in IngestSourcesTask. */
export interface IngestTask extends IngestSourcesTask {
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
  /** Packed queue messages that were not msgmux frames: dropped. */
  malformedPacked: number;
}

/** The values of SharedState.ingestState, and their names in stats (same order). */
export const IngestState = { STARTING: 0, WAITING_FOR_SINKS: 1, READING: 2, STOPPED: 3, WAITING_FOR_ROOM: 4 } as const;
export const INGEST_STATE_NAMES = ['starting', 'waiting for a sink', 'reading', 'stopped', 'waiting for the slowest sink'] as const;

const BATCH = 64;

/** What ingest posts once the queue is open and every source joined, before its report. */
export const INGEST_READY = 'ready';

export function ingest(task: IngestTask, onReady: () => void = () => undefined): IngestReport {
  const shared = new SharedState(task.shared);
  const writer = Ring.attach(task.ring).writer();
  const queue = MessageQueue.open(task.queue, { read: true, write: false });
  const slot = align8(task.messageSize);
  const scratch = new Uint8Array(BATCH * slot);
  const offsets = Int32Array.from({ length: BATCH }, (_, k) => k * slot);
  const lengths = new Int32Array(BATCH);
  const sources = new IngestSources(task, BATCH);
  // Every wait here is woken, never timed: sinks and readers wake the ring's writer, a stop rings the doorbell.
  const doorbell = shared.ingestDoorbellFd;
  // Without one (a state not made by its owner) a stop is only seen by looking: every 100 ms.
  const pollMs = doorbell < 0 ? 100 : -1;
  const abandoning = (): boolean => shared.ingestStop >= 2;
  let abandoned = 0;
  onReady();

  /** Waits until the queue or a source is readable, or a stop rings; returns the ready bit set (see IngestSources.poll). */
  const waitForInput = (): number => {
    const ready = sources.poll(queue.fd, pollMs, doorbell);
    if (ready & sources.wakeBit) clearDoorbell(doorbell);
    return ready & ~sources.wakeBit;
  };

  /**
   * Writes what was taken; taken means accepted, so it waits through a stop
   * request until told to abandon (the daemon then wakes the ring's writer).
   */
  const write = (bytes: Uint8Array, at: Int32Array, sizes: Int32Array, taken: number, origin: OriginCode): number => {
    sources.mark(taken, origin);
    let written = writer.tryWriteRegions(bytes, at, sizes, 0, taken);
    if (written < taken) shared.ingestState = IngestState.WAITING_FOR_ROOM;
    while (written < taken && !abandoning()) {
      written += writer.writeRegionsSync(bytes, at.subarray(written), sizes.subarray(written), taken - written, undefined, abandoning);
    }
    sources.wrote(written);
    shared.addIngested(written);
    abandoned += taken - written;
    return written;
  };

  try {
    while (shared.ingestStop === 0) {
      if (shared.liveSinks === 0) {
        shared.ingestState = IngestState.WAITING_FOR_SINKS;
        shared.waitForLiveSinks();
        continue;
      }
      shared.ingestState = IngestState.READING;
      // Only the queue: take what is there, and poll only when it was empty. With other sources: poll them all first.
      if (sources.count === 0) {
        const taken = queue.receiveBatch(scratch, 0, slot, BATCH, lengths, null, 0);
        if (taken > 0) write(scratch, offsets, lengths, taken, Origin.LOCAL);
        else waitForInput();
        continue;
      }
      const ready = waitForInput();
      // The wait has no end but input or a stop: the sinks may all have gone meanwhile, and then nothing is taken.
      if (shared.liveSinks === 0 || shared.ingestStop !== 0) continue;
      if (ready & 1) {
        const taken = queue.receiveBatch(scratch, 0, slot, BATCH, lengths, null, 0);
        write(scratch, offsets, lengths, taken, Origin.LOCAL);
      }
      if (ready > 1) sources.drain(ready, write);
    }
  } finally {
    shared.ingestState = IngestState.STOPPED;
    writer.close();
    queue.close();
    sources.close();
  }
  return { ingested: shared.ingested, abandoned, malformedPacked: sources.malformedPacked };
}
