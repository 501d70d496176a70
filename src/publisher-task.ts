/**
 * What a Publisher and its sending thread share: the task, the events, the
 * flag words, how a message is laid out in the local ring, and how opening
 * the queue fails.
 *
 * A ring record is `[priority: u16 little-endian][payload]`. A record of
 * zero bytes (no priority) is the end of the stream: the sender exits once it
 * has sent everything before it.
 */
import { ErrorCode, hasCode, MsgmuxError } from './errors';
import type { MessageQueue } from './native/mq';
import { openQueueExplained } from './queue-errors';

export interface PublisherTask {
  queue: string;
  ring: SharedArrayBuffer;
  /** [SENT]: messages sent so far (mod 2^32); [WANT_PROGRESS]: 1 while the owner waits for a count. */
  flags: Int32Array;
}

export type PublisherEvent =
  /** Joined the ring; sends to `queue`, in frames when `packed`. */
  | { type: 'ready'; queue: string; packed: boolean }
  /** Sent more while the owner waits for a count, or caught up with the ring. */
  | { type: 'progress'; idle: boolean }
  | { type: 'failed'; code: string; message: string };

export const SENT = 0;
export const WANT_PROGRESS = 1;
export const FLAG_WORDS = 2;

export const PRIORITY_BYTES = 2;
/** Linux's MQ_PRIO_MAX - 1. */
export const MAX_PRIORITY = 32767;

/**
 * Opens `queue` for writing, naming what is wrong when it cannot: the
 * daemon's explanations of mq_open failures (queue-errors.ts: which limit,
 * whose queue, the command that helps), and a missing queue as
 * ERR_MSGMUX_NO_QUEUE.
 */
export function openForWriting(queue: string): MessageQueue {
  try {
    return openQueueExplained(queue, { read: false, write: true });
  } catch (err) {
    throw queueError(queue, err);
  }
}

/** Like openForWriting, but null when the queue does not exist (the daemon's packed queue exists only while it packs). */
export function openForWritingIfThere(queue: string): MessageQueue | null {
  try {
    return openForWriting(queue);
  } catch (err) {
    if (hasCode(err, ErrorCode.NO_QUEUE)) return null;
    throw err;
  }
}

/** A queue failure as a MsgmuxError: explained ones as they are, a missing queue as NO_QUEUE, the rest as QUEUE with the errno. */
export function queueError(queue: string, err: unknown): MsgmuxError {
  if (err instanceof MsgmuxError) return err;
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  if (code === 'ENOENT') {
    return new MsgmuxError(ErrorCode.NO_QUEUE, `queue ${queue} does not exist: is msgmux running? (msgmux start creates it)`, { cause: err });
  }
  return Object.assign(new MsgmuxError(ErrorCode.QUEUE, `queue ${queue}: ${message}`, { cause: err }), { errno: code });
}
