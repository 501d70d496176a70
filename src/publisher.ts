/**
 * Publishing to msgmux from a program: messages reach the daemon's queue in
 * call order, packed many to one mq_send when the daemon reads a packed queue.
 *
 *   new Publisher({ queue = '/msgmux', bufferSize })  throws ERR_MSGMUX_NO_QUEUE when the daemon has not created it
 *   publisher.publish(data: string | Uint8Array, priority = 0): Promise<void>
 *   publisher.flush(): Promise<void>         once everything published so far is in the queue
 *   publisher.close(): Promise<void>         flush, then stop; publish() is refused from then on
 *   publisher.messageSize / depth            the queue's largest message (bytes) and depth
 *   publisher.sentDirectly                   messages this thread sent itself (lone ones, see below)
 *
 * How: publish() copies the message into a small local ring (a
 * SharedArrayBuffer, from the caller's thread: no syscall, no wait) and a
 * sending thread drains the ring into the queue with blocking mq_timedsend on
 * one long-lived descriptor. publish() resolves once the message is in the
 * local ring, so it resolves at once while there is room. A message that
 * comes alone (the sender idle, the previous publish() a while ago) is sent
 * by the caller's thread itself when the queue has room, without waiting:
 * one thread hop less for a slow stream (src/publisher-direct.ts). When the queue is
 * full, the ring fills behind it, and then publish() waits (Atomics.waitAsync,
 * the event loop keeps running) until the sending thread has made room:
 * backpressure reaches the caller, nothing is dropped, and messages reach the
 * queue in call order. Works in any thread.
 *
 * The process stays alive while messages are unsent (the sending thread is
 * referenced only then), so a script that ends right after publish() still
 * delivers; an idle publisher does not keep the process alive.
 */
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { DEFAULT_QUEUE } from './defaults';
import { ErrorCode, MsgmuxError } from './errors';
import { Fifo } from './fifo';
import { DirectSender } from './publisher-direct';
import { queueNameProblem } from './queue-limits';
import { Ring, type RingWriter } from './ring';
import {
  FLAG_WORDS, MAX_PRIORITY, PRIORITY_BYTES, SENT, WANT_PROGRESS, openForWriting, type PublisherEvent, type PublisherTask,
} from './publisher-task';

const SENDER = path.join(__dirname, '..', 'workers', 'publisher-sender.js');
/** Default and smallest local ring: room for many small messages, a cheap allocation. */
const DEFAULT_BUFFER = 256 << 10;
const MIN_BUFFER = 16 << 10;
/** Ring bookkeeping per record (length word and padding), so that a ring of 4x this holds any message. */
const RECORD_OVERHEAD = 16;
const RESOLVED: Promise<void> = Promise.resolve();
const END_OF_STREAM = new Uint8Array(0);

export interface PublisherOptions {
  /** The daemon's queue (default `/msgmux`). */
  queue?: string;
  /**
   * Bytes of local buffering between publish() and the queue (default 256 KiB,
   * raised to fit four of the queue's largest messages; a power of two).
   */
  bufferSize?: number;
}

interface Pending {
  record: Uint8Array;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface FlushWaiter {
  target: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

const nextPowerOfTwo = (n: number): number => 2 ** Math.ceil(Math.log2(n));

export class Publisher {
  readonly queue: string;
  readonly messageSize: number;
  readonly depth: number;
  /** Messages that came alone and were sent by the calling thread itself, skipping the sending thread. */
  sentDirectly = 0;
  private readonly ring: Ring;
  private readonly writer: RingWriter;
  private readonly flags = new Int32Array(new SharedArrayBuffer(FLAG_WORDS * 4));
  private readonly worker: Worker;
  private readonly scratch: Buffer;
  /** Messages that wait for the sending thread to start or for room in the ring, in call order. */
  private readonly pending = new Fifo<Pending>();
  private readonly flushWaiters: FlushWaiter[] = [];
  private readonly exited: Promise<void>;
  /** Settles once the sending thread has joined the ring (or failed): records written before that would go unread. */
  private readonly ready: Promise<void>;
  private settleReady: () => void = () => undefined;
  /** Messages written to the ring (mod 2^32), compared with the sender's SENT count. */
  private accepted = 0;
  private started = false;
  private pumping = false;
  private referenced = false;
  private closed = false;
  private failure: MsgmuxError | null = null;
  /** Sends a lone message from this thread (src/publisher-direct.ts); null until the sender is ready, or if it cannot open the queue. */
  private direct: DirectSender | null = null;

  constructor(options: PublisherOptions = {}) {
    this.queue = options.queue ?? DEFAULT_QUEUE;
    const problem = queueNameProblem(this.queue);
    if (problem) throw new MsgmuxError(ErrorCode.INVALID_ARGUMENT, `queue name ${JSON.stringify(this.queue)} ${problem}`);
    // Opened here too, not only in the sending thread, so that a missing queue or a permission error throws now.
    const probe = openForWriting(this.queue);
    try {
      ({ messageSize: this.messageSize, depth: this.depth } = probe.attributes());
    } finally {
      probe.close();
    }
    this.ring = Ring.create({ capacity: bufferCapacity(options.bufferSize, this.messageSize) });
    this.writer = this.ring.writer();
    this.scratch = Buffer.allocUnsafe(PRIORITY_BYTES + this.messageSize);
    const task: PublisherTask = { queue: this.queue, ring: this.ring.buffer, flags: this.flags };
    this.worker = new Worker(SENDER, { workerData: task });
    this.ring.reclaimOnExit(this.worker); // a dead sender must not leave publish() waiting for room
    this.ready = new Promise((resolve) => (this.settleReady = resolve));
    this.worker.on('message', (event: PublisherEvent) => this.onEvent(event));
    this.worker.once('error', (err) => this.fail(new MsgmuxError(ErrorCode.QUEUE, `queue ${this.queue}: the sending thread failed: ${err.message}`, { cause: err })));
    this.exited = new Promise((resolve) => this.worker.once('exit', () => {
      if (!this.closed) this.fail(new MsgmuxError(ErrorCode.QUEUE, `queue ${this.queue}: the sending thread stopped`));
      resolve();
    }));
    this.worker.unref(); // after the listeners: adding a 'message' listener refs the thread again
  }

  /**
   * Resolves once the message is on its way (in the local buffer, sent in call
   * order); waits while the buffer is full. The data is copied at once: the
   * caller may reuse its buffer.
   */
  publish(data: string | Uint8Array, priority = 0): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new MsgmuxError(ErrorCode.CLOSED, 'publisher is closed'));
    if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
      return Promise.reject(new MsgmuxError(ErrorCode.INVALID_ARGUMENT, `priority must be an integer from 0 to ${MAX_PRIORITY} (got ${priority})`));
    }
    const length = this.encode(data, priority);
    if (length < 0) {
      return Promise.reject(new MsgmuxError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `message is ${typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength} bytes; queue ${this.queue} takes at most ${this.messageSize}`,
      ));
    }
    this.reference();
    const idle = this.pending.length === 0 && this.started;
    if (this.direct !== null && this.direct.trySend(this.scratch, PRIORITY_BYTES, length - PRIORITY_BYTES, priority, idle && this.sentUpTo(this.accepted))) {
      this.sentDirectly++;
      return RESOLVED;
    }
    const record = this.scratch.subarray(0, length);
    if (idle && this.writer.tryWrite(record)) {
      this.accepted = (this.accepted + 1) | 0;
      return RESOLVED;
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ record: new Uint8Array(record), resolve, reject }); // a copy: scratch is reused
      void this.pump();
    });
  }

  /** Resolves once every message published before this call is in the queue. */
  flush(): Promise<void> {
    if (this.pending.length > 0) {
      // Their count is known only once they are in the ring: flush again behind the last of them.
      const last = this.pending.last()!;
      return new Promise((resolve, reject) => {
        const { resolve: accepted, reject: refused } = last;
        last.resolve = () => {
          accepted();
          this.flush().then(resolve, reject);
        };
        last.reject = (err) => {
          refused(err);
          reject(err);
        };
      });
    }
    if (this.failure) return Promise.reject(this.failure);
    const target = this.accepted;
    if (this.sentUpTo(target)) return RESOLVED;
    return new Promise((resolve, reject) => {
      this.flushWaiters.push({ target, resolve, reject });
      Atomics.store(this.flags, WANT_PROGRESS, 1);
    });
  }

  /** Stops accepting messages; resolves once those already published are in the queue and the sending thread is gone. */
  async close(): Promise<void> {
    if (this.closed) return this.exited;
    this.closed = true;
    try {
      await this.flush();
    } finally {
      // The empty record tells the sender to finish; a failed sender is gone already.
      await this.ready;
      if (!this.failure) await this.writer.write(END_OF_STREAM);
      this.reference();
      await this.exited;
      this.writer.close();
      this.direct?.close();
      this.direct = null;
    }
  }

  /** Writes `[priority][data]` into scratch; returns its length, or -1 if data exceeds messageSize. */
  private encode(data: string | Uint8Array, priority: number): number {
    const { scratch } = this;
    scratch[0] = priority & 0xff;
    scratch[1] = priority >> 8;
    if (typeof data === 'string') {
      // Three bytes per UTF-16 unit at most: only a long string needs counting.
      if (data.length * 3 > this.messageSize && Buffer.byteLength(data) > this.messageSize) return -1;
      return PRIORITY_BYTES + scratch.write(data, PRIORITY_BYTES);
    }
    if (data.byteLength > this.messageSize) return -1;
    scratch.set(data, PRIORITY_BYTES);
    return PRIORITY_BYTES + data.byteLength;
  }

  /** Moves pending messages into the ring in order, waiting for the sender to start and for room. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      await this.ready;
      for (let next = this.pending.peek(); next && !this.failure; next = this.pending.peek()) {
        if (!this.writer.tryWrite(next.record)) {
          await this.writer.write(next.record);
          if (this.failure) break;
        }
        this.pending.shift();
        this.accepted = (this.accepted + 1) | 0;
        next.resolve();
      }
    } finally {
      this.pumping = false;
    }
  }

  private onEvent(event: PublisherEvent): void {
    if (event.type === 'ready') {
      this.direct = openDirect(event.queue, event.packed);
      this.started = true;
      this.settleReady();
      return;
    }
    if (event.type === 'failed') {
      const unsent = (this.accepted - Atomics.load(this.flags, SENT)) | 0;
      this.fail(new MsgmuxError(event.code, `${event.message}${unsent > 0 ? ` (${unsent} published messages were not sent)` : ''}`));
      return;
    }
    const waiters = this.flushWaiters.splice(0);
    for (const waiter of waiters) (this.sentUpTo(waiter.target) ? waiter.resolve() : this.flushWaiters.push(waiter));
    if (this.flushWaiters.length === 0) Atomics.store(this.flags, WANT_PROGRESS, 0);
    if (event.idle && this.pending.length === 0 && this.sentUpTo(this.accepted)) this.unreference();
  }

  private fail(err: MsgmuxError): void {
    if (this.failure) return;
    this.failure = err;
    this.settleReady();
    this.direct?.close();
    this.direct = null;
    for (const item of this.pending.clear()) item.reject(err);
    for (const waiter of this.flushWaiters.splice(0)) waiter.reject(err);
    this.unreference();
  }

  private sentUpTo(target: number): boolean {
    return ((Atomics.load(this.flags, SENT) - target) | 0) >= 0;
  }

  /** The sending thread keeps the process alive only while it has work. */
  private reference(): void {
    if (this.referenced) return;
    this.referenced = true;
    this.worker.ref();
  }

  /** Not once closing: close() waits for the thread's exit, which only a referenced thread is sure to report. */
  private unreference(): void {
    if (!this.referenced || this.closed) return;
    this.referenced = false;
    this.worker.unref();
  }
}

function openDirect(queue: string, packed: boolean): DirectSender | null {
  try {
    return new DirectSender(queue, packed);
  } catch {
    return null; // the sending thread has it open: everything goes its way
  }
}

function bufferCapacity(requested: number | undefined, messageSize: number): number {
  const least = nextPowerOfTwo(Math.max(MIN_BUFFER, 4 * (PRIORITY_BYTES + messageSize + RECORD_OVERHEAD)));
  if (requested === undefined) return Math.max(DEFAULT_BUFFER, least);
  if (!Number.isInteger(requested) || requested < least || (requested & (requested - 1)) !== 0) {
    throw new MsgmuxError(
      ErrorCode.INVALID_ARGUMENT,
      `bufferSize must be a power of two of at least ${least} bytes for this queue (4 of its ${messageSize}-byte messages; got ${requested})`,
    );
  }
  return requested;
}
