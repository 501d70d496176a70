/**
 * Where a sink worker delivers: a datagram socket or a POSIX message queue.
 * Both take a run of records as regions of one buffer, so the drain loop is
 * written once. A target only moves bytes; retry and backoff are the loop's.
 */
import { DgramSocket, MessageQueue } from '../native';
import type { SinkKindName } from './sink-spec';

export interface SinkTarget {
  readonly address: string;
  /** (Re)connects; throws the syscall error when the peer is absent. */
  connect(): void;
  /**
   * Sends records k < count (bytes `[offsets[k], offsets[k] + lengths[k])` of
   * `source`), waiting up to `waitMs` for room for the first. Returns how
   * many went: 0 means there was still no room. Throws when the peer is gone.
   */
  send(source: Uint8Array, offsets: Int32Array, lengths: Int32Array, count: number, waitMs: number): number;
  close(): void;
}

export interface QueueShape {
  depth: number;
  messageSize: number;
  mode: number;
}

/** Errors that mean nobody is there any more: a dynamic sink is removed, a static one waits. */
const GONE = new Set(['ECONNREFUSED', 'ENOENT', 'ENOTCONN', 'ECONNRESET', 'EPIPE']);
export const isGone = (err: unknown): boolean => GONE.has((err as { code?: string })?.code ?? '');

const codeOf = (err: unknown): string | undefined => (err as { code?: string })?.code;

class DatagramTarget implements SinkTarget {
  private socket: DgramSocket | null = null;

  constructor(readonly address: string) {}

  connect(): void {
    this.close();
    const socket = new DgramSocket({ nonBlocking: true });
    try {
      socket.connect(this.address);
    } catch (err) {
      socket.close();
      throw err;
    }
    this.socket = socket;
  }

  send(source: Uint8Array, offsets: Int32Array, lengths: Int32Array, count: number, waitMs: number): number {
    const socket = this.socket!;
    try {
      return socket.sendBatch(source, offsets, lengths, count);
    } catch (err) {
      if (codeOf(err) !== 'EAGAIN') throw err;
    }
    // poll can say writable while the peer's queue is still full: one retry, then report no room.
    socket.poll({ writable: true }, waitMs);
    try {
      return socket.sendBatch(source, offsets, lengths, count);
    } catch (err) {
      if (codeOf(err) === 'EAGAIN') return 0;
      throw err;
    }
  }

  close(): void {
    this.socket?.close();
    this.socket = null;
  }
}

class QueueTarget implements SinkTarget {
  private queue: MessageQueue | null = null;

  constructor(readonly address: string, private readonly shape: QueueShape) {}

  connect(): void {
    this.close();
    this.queue = MessageQueue.open(this.address, {
      create: true,
      write: true,
      read: false,
      depth: this.shape.depth,
      messageSize: this.shape.messageSize,
      mode: this.shape.mode,
    });
  }

  send(source: Uint8Array, offsets: Int32Array, lengths: Int32Array, count: number, waitMs: number): number {
    const queue = this.queue!;
    let sent = 0;
    while (sent < count) {
      const record = source.subarray(offsets[sent], offsets[sent] + lengths[sent]);
      if (!queue.timedSend(record, 0, sent === 0 ? waitMs : 0)) break;
      sent++;
    }
    return sent;
  }

  close(): void {
    this.queue?.close();
    this.queue = null;
  }
}

export function createTarget(kind: SinkKindName, address: string, shape: QueueShape): SinkTarget {
  return kind === 'mq' ? new QueueTarget(address, shape) : new DatagramTarget(address);
}
