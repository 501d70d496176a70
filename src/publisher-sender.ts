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
import { FLAG_WORDS, PRIORITY_BYTES, SENT, WANT_PROGRESS, openForWriting, type PublisherEvent, type PublisherTask } from './publisher-task';
import { ErrorCode } from './errors';

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
    try {
      post({ type: 'ready' });
      let sentSinceIdle = false;
      for (;;) {
        let batch = reader.peekSync(BATCH, 0);
        if (batch.count === 0) {
          if (sentSinceIdle) post({ type: 'progress', idle: true });
          sentSinceIdle = false;
          batch = reader.peekSync(BATCH);
          if (batch.count === 0) continue;
        }
        for (let k = 0; k < batch.count; k++) {
          const start = batch.offsets[k];
          const length = batch.lengths[k];
          if (length === 0) return; // the end of the stream: everything before it is sent
          const priority = bytes[start] | (bytes[start + 1] << 8);
          const message = bytes.subarray(start + PRIORITY_BYTES, start + length);
          while (!queue.timedSend(message, priority, SEND_WAIT_MS));
          Atomics.add(flags, SENT, 1);
        }
        reader.release();
        sentSinceIdle = true;
        if (Atomics.load(flags, WANT_PROGRESS) !== 0) post({ type: 'progress', idle: false });
      }
    } finally {
      queue.close();
    }
  } catch (err) {
    const { code = ErrorCode.QUEUE, message = String(err) } = err as { code?: string; message?: string };
    post({ type: 'failed', code, message });
  } finally {
    reader.close();
  }
}
