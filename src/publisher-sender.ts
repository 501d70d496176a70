/**
 * A Publisher's sending thread: reads the Publisher's local ring and sends
 * each message to the queue with mq_timedsend, blocking this thread (never
 * the owner's event loop) while the queue is full.
 *
 * A send waits at most SEND_WAIT_MS, then the thread returns to JS: a
 * blocking syscall cannot be interrupted by worker.terminate(), and a process
 * that exits must not hang on this thread. Waiting for records needs no such
 * bound: Atomics.wait is interrupted by terminate().
 *
 * Runs in its own thread (workers/publisher-sender.ts), started by a
 * Publisher with a PublisherTask (src/publisher-task.ts).
 */
import { Ring } from './ring';
import { FLAG_WORDS, PRIORITY_BYTES, SENT, WANT_PROGRESS, openForWriting, openForWritingIfThere, type PublisherEvent, type PublisherTask } from './publisher-task';
import { ErrorCode } from './errors';
import { Packer } from './publisher-packer';
import { packedQueueName } from './wire/packed';

const SEND_WAIT_MS = 200;
const BATCH = 256;

/** Sends until the end-of-stream record, posting ready, progress and failure. */
export function sendForPublisher(task: PublisherTask, post: (event: PublisherEvent) => void): void {
  const { flags } = task;
  if (flags.length < FLAG_WORDS) throw new RangeError('publisher flags too short');
  const ring = Ring.attach(task.ring);
  const reader = ring.reader({ start: 'earliest', policy: 'block', maxBatch: BATCH });
  const bytes = new Uint8Array(task.ring);
  try {
    const queue = openForWriting(task.queue);
    // The daemon's packed queue, when it reads one (it makes it at start, and removes it when packing is off).
    const packed = openForWritingIfThere(packedQueueName(task.queue));
    const packer = packed === null ? null : new Packer(packed, queue, SEND_WAIT_MS);
    const offsets = new Int32Array(BATCH);
    const lengths = new Int32Array(BATCH);
    const priorities = new Int32Array(BATCH);
    try {
      post({ type: 'ready', queue: packed === null ? task.queue : packedQueueName(task.queue), packed: packed !== null });
      let sentSinceIdle = false;
      for (;;) {
        let batch = reader.peekSync(BATCH, 0);
        if (batch.count === 0) {
          if (sentSinceIdle) post({ type: 'progress', idle: true });
          sentSinceIdle = false;
          batch = reader.peekSync(BATCH);
          if (batch.count === 0) continue;
        }
        let count = 0;
        let ended = false;
        for (; count < batch.count; count++) {
          const start = batch.offsets[count];
          const length = batch.lengths[count];
          if (length === 0) {
            ended = true; // the end of the stream: everything before it is sent
            break;
          }
          priorities[count] = bytes[start] | (bytes[start + 1] << 8);
          offsets[count] = start + PRIORITY_BYTES;
          lengths[count] = length - PRIORITY_BYTES;
        }
        if (packer !== null) {
          packer.send(bytes, offsets, lengths, priorities, count);
        } else {
          for (let k = 0; k < count; k++) {
            while (!queue.timedSend(bytes.subarray(offsets[k], offsets[k] + lengths[k]), priorities[k], SEND_WAIT_MS));
          }
        }
        Atomics.add(flags, SENT, count);
        if (ended) return;
        reader.release();
        sentSinceIdle = true;
        if (Atomics.load(flags, WANT_PROGRESS) !== 0) post({ type: 'progress', idle: false });
      }
    } finally {
      queue.close();
      packed?.close();
    }
  } catch (err) {
    const { code = ErrorCode.QUEUE, message = String(err) } = err as { code?: string; message?: string };
    post({ type: 'failed', code, message });
  } finally {
    reader.close();
  }
}
