/**
 * A subscriber's receiving thread: binds the subscriber's socket, then
 * receives batches (recvmmsg) and posts each as one MessageBatch — one copy
 * and one post per batch of datagrams, not per message.
 *
 * Flow control by credit: it posts at most MAX_IN_FLIGHT batches ahead of
 * what the owner has consumed, then stops receiving. The socket's queue then
 * fills, and the daemon sees EAGAIN: a slow consumer pushes back through the
 * kernel instead of growing this process's memory.
 *
 * Runs in its own thread (workers/subscriber-receiver.ts), started by a
 * Subscriber with a SubscriberTask (src/subscriber-protocol.ts).
 */
import { BatchAssembler } from './batch-assembler';
import { ErrorCode } from './errors';
import { DgramSocket } from './native';
import { IN_FLIGHT, MAX_IN_FLIGHT, STOP, type SubscriberEvent, type SubscriberTask } from './subscriber-protocol';
import { largestDatagram } from './wire';

const POLL_MS = 100;
/** Bytes of receive slots: many small datagrams, or a few coalesced ones of up to 64 KiB. */
const SLOT_BYTES = 1 << 20;

/** Receives until the STOP flag is set, posting batches within the credit; `post` transfers the listed buffers. */
export function receiveForSubscriber(task: SubscriberTask, post: (event: SubscriberEvent, transfer?: ArrayBuffer[]) => void): void {
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
  const largest = largestDatagram({ framing: task.framing, header: task.header }, task.maxMessage);
  const slot = largest + 1; // one byte more: a longer datagram shows up as cut
  const count = Math.max(1, Math.min(256, Math.floor(SLOT_BYTES / slot)));
  const buffer = new Uint8Array(count * slot);
  const lengths = new Int32Array(count);
  const assembler = new BatchAssembler(task.framing, task.header, largest, task.maxMessage);
  try {
    while (Atomics.load(flags, STOP) === 0) {
      const inFlight = Atomics.load(flags, IN_FLIGHT);
      if (inFlight >= MAX_IN_FLIGHT) {
        Atomics.wait(flags, IN_FLIGHT, inFlight, POLL_MS);
        continue;
      }
      if (!socket.poll({ readable: true }, POLL_MS).readable) continue;
      const n = socket.recvBatch(buffer, slot, count, lengths);
      if (n === 0) continue;
      const { batch, truncated, badFrames } = assembler.assemble(buffer, slot, lengths, n);
      Atomics.add(flags, IN_FLIGHT, 1);
      const transfer = [batch.bytes.buffer, batch.offsets.buffer, batch.lengths.buffer];
      if (batch.headerAt) transfer.push(batch.headerAt.buffer);
      post({ type: 'batch', batch, truncated, badFrames }, transfer as ArrayBuffer[]);
    }
  } finally {
    socket.close();
  }
}
