/** A sink that is a POSIX message queue, created like the bus queue if absent: one mq_timedsend per record. */
import { openQueueExplained } from '../queue-errors';
import type { MessageQueue } from '../native';
import type { QueueShape, RoomWait, SinkTarget } from './target';

export class QueueTarget implements SinkTarget {
  private queue: MessageQueue | null = null;

  constructor(readonly address: string, private readonly shape: QueueShape) {}

  connect(): void {
    this.close();
    this.queue = openQueueExplained(this.address, {
      create: true,
      write: true,
      read: false,
      depth: this.shape.depth,
      messageSize: this.shape.messageSize,
      mode: this.shape.mode,
    });
  }

  /** A queue is there until it is unlinked, and holding it open keeps it alive: nothing to check. */
  probe(): void {}

  /** A full queue is waited on with poll(2) (a queue descriptor is writable while it has room), then tried once more. */
  send(source: Uint8Array, offsets: Int32Array, lengths: Int32Array, count: number, wait: RoomWait): number {
    const queue = this.queue!;
    let sent = 0;
    while (sent < count) {
      const record = source.subarray(offsets[sent], offsets[sent] + lengths[sent]);
      if (queue.timedSend(record, 0, 0)) {
        sent++;
        continue;
      }
      // Full: only the first record waits for room; the rest wait for the next call.
      if (sent > 0 || !wait.forWritable(queue.fd) || !queue.timedSend(record, 0, 0)) break;
      sent++;
    }
    return sent;
  }

  close(): void {
    this.queue?.close();
    this.queue = null;
  }
}
