/**
 * A subscriber's receiving thread: binds the subscriber's socket, then
 * receives batches (recvmmsg) and posts them to the owning thread.
 *
 * Flow control by credit: it posts at most MAX_IN_FLIGHT batches ahead of
 * what the owner has consumed, then stops receiving. The socket's queue then
 * fills, and the daemon sees EAGAIN: a slow consumer pushes back through the
 * kernel instead of growing this process's memory.
 *
 * Runs in its own thread (workers/subscriber-receiver.ts), started by a
 * Subscriber with a SubscriberTask (src/subscriber-protocol.ts).
 */
import { ErrorCode } from './errors';
import { DgramSocket } from './native';
import { IN_FLIGHT, MAX_IN_FLIGHT, STOP, type SubscriberEvent, type SubscriberTask } from './subscriber-protocol';

const BATCH = 64;
const POLL_MS = 100;

/** Receives until the STOP flag is set, posting batches within the credit. */
export function receiveForSubscriber(task: SubscriberTask, post: (event: SubscriberEvent) => void): void {
  const { flags } = task;
  const socket = new DgramSocket();
  try {
    socket.bind(task.name);
    socket.setRecvBufferSize(4 << 20);
  } catch (err) {
    const { code = ErrorCode.SUBSCRIBER, message = String(err) } = err as { code?: string; message?: string };
    socket.close();
    return post({ type: 'failed', code, message });
  }
  post({ type: 'bound' });
  const slot = task.maxMessage + 1; // one byte more: a longer datagram shows up as truncated
  const buffer = new Uint8Array(BATCH * slot);
  const lengths = new Int32Array(BATCH);
  try {
    while (Atomics.load(flags, STOP) === 0) {
      const inFlight = Atomics.load(flags, IN_FLIGHT);
      if (inFlight >= MAX_IN_FLIGHT) {
        Atomics.wait(flags, IN_FLIGHT, inFlight, POLL_MS);
        continue;
      }
      if (!socket.poll({ readable: true }, POLL_MS).readable) continue;
      const n = socket.recvBatch(buffer, slot, BATCH, lengths);
      const messages: Uint8Array[] = [];
      let truncated = 0;
      for (let k = 0; k < n; k++) {
        if (lengths[k] > task.maxMessage) truncated++;
        messages.push(buffer.slice(k * slot, k * slot + Math.min(lengths[k], task.maxMessage)));
      }
      Atomics.add(flags, IN_FLIGHT, 1);
      post({ type: 'messages', messages, truncated });
    }
  } finally {
    socket.close();
  }
}
