/**
 * Publishing to msgmux from a program: a message is one mq_send to the
 * daemon's queue.
 *
 *   new Publisher({ queue = '/msgmux' })     throws ERR_MSGMUX_NO_QUEUE when the daemon has not created it
 *   publisher.publish(data: string | Uint8Array, priority = 0): Promise<void>
 *   publisher.close(): Promise<void>         after everything already published is sent
 *   publisher.messageSize: number            the queue's largest message, in bytes
 *
 * publish() resolves once the message is in the queue, in call order. When
 * the queue is full it waits for room, so a slow bus slows the publisher down
 * and nothing is ever dropped. Errors: ERR_MSGMUX_MESSAGE_TOO_LARGE,
 * ERR_MSGMUX_NO_QUEUE, ERR_MSGMUX_CLOSED, ERR_MSGMUX_INVALID_ARGUMENT, or the
 * errno name (EACCES, ...). Main thread only: posix-mq is not worker-safe.
 *
 * Why no queue handle stays open: posix-mq watches every handle with a
 * uv_poll whose bookkeeping goes wrong in several states and then spins the
 * event loop (measured: 100% CPU from an idle handle on a queue holding 3 of
 * 10 messages, or one filled in the tick it was opened). A handle opened and
 * closed within one synchronous turn never reaches its poll callback, so
 * sends use one handle per turn. Waiting for room needs the poll, so a
 * separate handle is opened only while the queue is full, and closed as soon
 * as there is room; see waitForRoom.
 *
 * Closing a posix-mq handle needs care too: its uv_close callback runs later
 * and reads the object, so a handle garbage-collected in between crashes the
 * process (measured: SIGSEGV with a gc() between close and the next loop
 * turn). closeMq() keeps a closed handle alive until that callback has run.
 *
 *   closeMq(mq: PosixMQ): void               for any posix-mq handle, tests included
 */
import type PosixMQ from 'posix-mq';
import { ErrorCode, MsgmuxError } from './errors';
import { DEFAULT_CONFIG } from './config';
import { queueNameProblem } from './queue-limits';

const O_WRONLY = 0o1;
const O_NONBLOCK = 0o4000;
const MAX_PRIORITY = 31; // posix-mq refuses more, although Linux allows 32767
/** How often a waiter re-checks for room and starts over with a fresh handle, in case an event was missed. */
const WAITER_RECHECK_MS = 100;

/** posix-mq throws `new Error(strerror(errno))`; these are the errno names its messages stand for. */
const ERRNO_BY_MESSAGE: Record<string, string> = {
  'No such file or directory': 'ENOENT',
  'Permission denied': 'EACCES',
  'Invalid argument': 'EINVAL',
  'Message too long': 'EMSGSIZE',
  'Too many open files': 'EMFILE',
  'Too many open files in system': 'ENFILE',
  'Bad file descriptor': 'EBADF',
};

function queueError(queue: string, err: unknown): MsgmuxError {
  const message = err instanceof Error ? err.message : String(err);
  const errno = ERRNO_BY_MESSAGE[message];
  if (errno === 'ENOENT') {
    return new MsgmuxError(ErrorCode.NO_QUEUE, `queue ${queue} does not exist: is msgmux running? (msgmux start creates it)`, { cause: err });
  }
  if (errno === 'EACCES') {
    return new MsgmuxError('EACCES', `no permission to write to queue ${queue} (the daemon sets its mode with queueMode)`, { cause: err });
  }
  return new MsgmuxError(errno ?? ErrorCode.QUEUE, `queue ${queue}: ${message}`, { cause: err });
}

const closing = new Set<PosixMQ>();

/** Closes a posix-mq handle and keeps it reachable until libuv has finished closing it. */
export function closeMq(mq: PosixMQ): void {
  mq.close();
  closing.add(mq);
  // The second hop runs in a later loop iteration than the close, so after its close phase.
  setImmediate(() => setImmediate(() => closing.delete(mq)));
}

/**
 * posix-mq is loaded on first use, not on import: it is not worker-safe, and
 * `import { Ring } from 'msgmux'` must work in any thread.
 */
let PosixMQClass: typeof PosixMQ | undefined;
const loadPosixMq = (): typeof PosixMQ => (PosixMQClass ??= require('posix-mq') as typeof PosixMQ);

function openQueue(queue: string): PosixMQ {
  const mq = new (loadPosixMq())();
  try {
    mq.open({ name: queue, flags: O_WRONLY | O_NONBLOCK });
  } catch (err) {
    throw queueError(queue, err);
  }
  return mq;
}

/**
 * Resolves once `queue` has room. Wakes on the handle's events, after its
 * first poll callback, and every WAITER_RECHECK_MS with a fresh handle: the
 * handle's state is only trustworthy when it was opened on a full queue that
 * stayed full until its first callback, and the recheck bounds any other case.
 */
function waitForRoom(queue: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let waiter: PosixMQ | undefined;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (waiter) closeMq(waiter);
      err === undefined ? resolve() : reject(err);
    };
    const check = () => {
      if (!done && waiter && !waiter.isFull) finish();
    };
    const arm = () => {
      if (waiter) closeMq(waiter);
      try {
        waiter = openQueue(queue);
      } catch (err) {
        waiter = undefined;
        return finish(err);
      }
      waiter.on('drain', check);
      waiter.on('messages', check);
      // Two hops: the second runs after a poll phase has seen the new handle.
      setImmediate(() => setImmediate(check));
      timer = setTimeout(recheck, WAITER_RECHECK_MS);
    };
    const recheck = () => {
      check();
      if (!done) arm();
    };
    arm();
  });
}

interface Pending {
  data: Buffer;
  priority: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface PublisherOptions {
  queue?: string;
}

export class Publisher {
  readonly queue: string;
  readonly messageSize: number;
  readonly depth: number;
  private readonly pending: Pending[] = [];
  private flushScheduled = false;
  private waiting = false;
  private closed = false;
  private idle: Array<() => void> = [];

  constructor(options: PublisherOptions = {}) {
    this.queue = options.queue ?? DEFAULT_CONFIG.queue;
    const problem = queueNameProblem(this.queue);
    if (problem) throw new MsgmuxError(ErrorCode.INVALID_ARGUMENT, `queue name ${JSON.stringify(this.queue)} ${problem}`);
    const mq = openQueue(this.queue);
    this.messageSize = mq.msgsize;
    this.depth = mq.maxmsgs;
    closeMq(mq);
  }

  publish(data: string | Uint8Array, priority = 0): Promise<void> {
    if (this.closed) return Promise.reject(new MsgmuxError(ErrorCode.CLOSED, 'publisher is closed'));
    if (!Number.isInteger(priority) || priority < 0 || priority > MAX_PRIORITY) {
      return Promise.reject(new MsgmuxError(ErrorCode.INVALID_ARGUMENT, `priority must be an integer from 0 to ${MAX_PRIORITY} (got ${priority})`));
    }
    // a copy: the caller may reuse its buffer while the message waits for room
    const buffer = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    if (buffer.byteLength > this.messageSize) {
      return Promise.reject(
        new MsgmuxError(ErrorCode.MESSAGE_TOO_LARGE, `message is ${buffer.byteLength} bytes; queue ${this.queue} takes at most ${this.messageSize}`),
      );
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ data: buffer, priority, resolve, reject });
      this.scheduleFlush();
    });
  }

  /** Stops accepting messages; resolves once those already published are in the queue. */
  close(): Promise<void> {
    this.closed = true;
    if (this.pending.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  // Publishes issued in the same turn share one queue handle.
  private scheduleFlush(): void {
    if (this.flushScheduled || this.waiting) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    let mq: PosixMQ;
    try {
      mq = openQueue(this.queue);
    } catch (err) {
      return this.failAll(err);
    }
    try {
      while (this.pending.length > 0) {
        const next = this.pending[0];
        let sent: boolean;
        try {
          sent = mq.push(next.data, next.priority);
        } catch (err) {
          this.pending.shift();
          next.reject(queueError(this.queue, err));
          continue;
        }
        if (!sent) return this.waitThenFlush();
        this.pending.shift();
        next.resolve();
      }
      this.settleIdle();
    } finally {
      closeMq(mq);
    }
  }

  private waitThenFlush(): void {
    this.waiting = true;
    waitForRoom(this.queue).then(
      () => {
        this.waiting = false;
        this.flush();
      },
      (err) => {
        this.waiting = false;
        this.failAll(err);
      },
    );
  }

  private failAll(err: unknown): void {
    for (const item of this.pending.splice(0)) item.reject(err);
    this.settleIdle();
  }

  private settleIdle(): void {
    if (this.pending.length === 0) for (const resolve of this.idle.splice(0)) resolve();
  }
}
