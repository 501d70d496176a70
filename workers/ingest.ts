/**
 * Ingest: the ring's one writer. Takes batches off the POSIX queue and
 * writes them into the ring, in the order the kernel hands them out (highest
 * priority first).
 *
 * With no live sink it stops reading, so the queue fills and publishers
 * block: at least one receiver gets everything. When the slowest gating sink
 * is a ring behind, the write waits, the queue fills, and publishers block
 * again: backpressure reaches them through the kernel. What it has taken off
 * the queue it writes before it stops, unless told to abandon it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { MessageQueue } from '../src/native';
import { Ring } from '../src/ring';
import { ControlBlock, IngestState } from '../src/daemon/control-block';

export interface IngestTask {
  ring: SharedArrayBuffer;
  control: SharedArrayBuffer;
  queue: string;
  messageSize: number;
}

export interface IngestReport {
  ingested: number;
  /** Taken off the queue but never written, because the daemon gave up waiting. */
  abandoned: number;
}

const BATCH = 64;
const WAIT_MS = 100;

function ingest(task: IngestTask): IngestReport {
  const control = new ControlBlock(task.control);
  const writer = Ring.attach(task.ring).writer();
  const queue = MessageQueue.open(task.queue, { read: true, write: false });
  const slot = (task.messageSize + 7) & ~7;
  const scratch = new Uint8Array(BATCH * slot);
  const offsets = Int32Array.from({ length: BATCH }, (_, k) => k * slot);
  const lengths = new Int32Array(BATCH);
  let abandoned = 0;
  try {
    while (control.ingestStop === 0) {
      if (control.liveSinks === 0) {
        control.ingestState = IngestState.WAITING_FOR_SINKS;
        control.waitForLiveSinks(WAIT_MS);
        continue;
      }
      control.ingestState = IngestState.READING;
      const taken = queue.receiveBatch(scratch, 0, slot, BATCH, lengths, null, WAIT_MS);
      let written = writer.tryWriteRegions(scratch, offsets, lengths, 0, taken);
      if (written < taken) control.ingestState = IngestState.WAITING_FOR_ROOM;
      // Taken off the queue means accepted: keep trying through a stop request, until the
      // main thread's drain deadline says to abandon it.
      while (written < taken && control.ingestStop < 2) {
        written += writer.writeRegionsSync(scratch, offsets.subarray(written), lengths.subarray(written), taken - written, WAIT_MS);
      }
      control.addIngested(written);
      abandoned += taken - written;
    }
  } finally {
    control.ingestState = IngestState.STOPPED;
    writer.close();
    queue.close();
  }
  return { ingested: control.ingested, abandoned };
}

parentPort!.postMessage(ingest(workerData as IngestTask));
