import * as fs from 'node:fs';
import { nativeBinding, NativeHandle } from './binding';
import { byteView } from './dgram';

export interface MessageQueueOpenOptions {
  /** O_CREAT. Default false. */
  create?: boolean;
  /** O_EXCL: with create, fail with EEXIST if the queue exists. */
  exclusive?: boolean;
  /** Max messages queued (mq_maxmsg), when creating. Default: the system's msg_default. */
  depth?: number;
  /** Max bytes per message (mq_msgsize), when creating. Default: the system's msgsize_default. */
  messageSize?: number;
  /** Permission bits when creating. Default 0o600. */
  mode?: number;
  /** O_NONBLOCK: a full/empty queue throws EAGAIN instead of waiting. */
  nonBlocking?: boolean;
  /** Open for reading / writing. Both default to true (O_RDWR). */
  read?: boolean;
  write?: boolean;
}

export interface ReceivedMessage {
  length: number;
  priority: number;
}

export interface QueueAttributes {
  depth: number;
  messageSize: number;
  current: number;
  nonBlocking: boolean;
}

/** A system default from /proc, used when the caller sets only one of depth / messageSize. */
function mqDefault(file: 'msg_default' | 'msgsize_default', fallback: number): number {
  try {
    return Number.parseInt(fs.readFileSync(`/proc/sys/fs/mqueue/${file}`, 'utf8'), 10) || fallback;
  } catch {
    return fallback;
  }
}

/**
 * A POSIX message queue descriptor. Names look like `/name`. The kernel
 * delivers the highest priority first, FIFO within a priority.
 */
export class MessageQueue {
  readonly #native = nativeBinding();
  readonly #handle: NativeHandle;
  readonly name: string;

  private constructor(handle: NativeHandle, name: string) {
    this.#handle = handle;
    this.name = name;
  }

  static open(name: string, opts: MessageQueueOpenOptions = {}): MessageQueue {
    const native = nativeBinding();
    const read = opts.read ?? true;
    const write = opts.write ?? true;
    let oflag = read && write ? native.O_RDWR : write ? native.O_WRONLY : native.O_RDONLY;
    if (opts.create) oflag |= native.O_CREAT;
    if (opts.exclusive) oflag |= native.O_EXCL;
    if (opts.nonBlocking) oflag |= native.O_NONBLOCK;
    let depth = opts.depth ?? 0;
    let size = opts.messageSize ?? 0;
    if (depth > 0 || size > 0) {
      depth ||= mqDefault('msg_default', 10);
      size ||= mqDefault('msgsize_default', 8192);
    }
    return new MessageQueue(native.mqOpen(name, oflag, opts.mode ?? 0o600, depth, size), name);
  }

  static unlink(name: string): void {
    nativeBinding().mqUnlink(name);
  }

  /** The descriptor number, or -1 after close(). */
  get fd(): number {
    return this.#native.fd(this.#handle);
  }

  /** Waits while the queue is full (unless non-blocking: EAGAIN). */
  send(data: ArrayBufferView, priority = 0): void {
    this.#native.mqSend(this.#handle, data, priority, -1, this.name);
  }

  /** Like send, waiting at most timeoutMs; false if the queue stayed full. */
  timedSend(data: ArrayBufferView, priority: number, timeoutMs: number): boolean {
    return this.#native.mqSend(this.#handle, data, priority, Math.max(0, timeoutMs), this.name);
  }

  /** `into` must hold messageSize bytes, or the kernel says EMSGSIZE. */
  receive(into: ArrayBufferView): ReceivedMessage {
    return this.#native.mqReceive(this.#handle, into, -1, this.name) as ReceivedMessage;
  }

  /** Waits at most timeoutMs; null if nothing arrived. */
  timedReceive(into: ArrayBufferView, timeoutMs: number): ReceivedMessage | null {
    return this.#native.mqReceive(this.#handle, into, Math.max(0, timeoutMs), this.name);
  }

  /**
   * Message i lands at offset + i * slotSize (slotSize >= messageSize), its size
   * in lengths[i], its priority in priorities[i]. Waits up to timeoutMs (-1:
   * forever) for the first, then takes only what is already queued, up to max.
   * Returns the count, 0 if nothing arrived in time.
   */
  receiveBatch(
    into: SharedArrayBuffer | ArrayBuffer | ArrayBufferView,
    offset: number,
    slotSize: number,
    max: number,
    lengths: Int32Array,
    priorities: Int32Array | null,
    timeoutMs: number,
  ): number {
    return this.#native.mqReceiveBatch(
      this.#handle, byteView(into), offset, slotSize, max, lengths, priorities, timeoutMs < 0 ? -1 : timeoutMs, this.name,
    );
  }

  /**
   * Waits up to timeoutMs (-1: forever) until any of `queues` has a message;
   * returns one bit per queue (bit i: queues[i] is readable), 0 on timeout.
   */
  static poll(queues: readonly MessageQueue[], timeoutMs: number): number {
    const native = nativeBinding();
    return native.mqPoll(queues.map((queue) => queue.#handle), timeoutMs < 0 ? -1 : timeoutMs, queues.map((q) => q.name).join(', '));
  }

  attributes(): QueueAttributes {
    return this.#native.mqAttributes(this.#handle, this.name);
  }

  setNonBlocking(on: boolean): void {
    this.#native.mqSetNonBlocking(this.#handle, on, this.name);
  }

  /** Idempotent. */
  close(): void {
    this.#native.close(this.#handle);
  }
}
