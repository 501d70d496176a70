/**
 * Where a sink worker delivers. Every kind takes a run of records as regions
 * of one buffer, so the drain loop is written once. A target only moves
 * bytes; retry and backoff are the loop's, and so is the wait for room: a
 * target hands its descriptor to the loop's RoomWait, which a stop also ends.
 *
 * EAGAIN: poll can say a datagram socket is writable while the peer's queue
 * is still full, so a target retries once after the wait and then reports
 * no room; the loop backs off when that happens, so it never spins. A target
 * whose send call can wait itself (a datagram socket: poll beside sendmmsg
 * in one call) runs it `within` the RoomWait, which lends it the doorbell
 * and the time and learns how the wait ended.
 */

/** The drain loop's wait for room (src/sink/send-wait.ts): its length and its other ends are the loop's. */
export interface RoomWait {
  /** Waits until `fd` is writable, or the wait is ended otherwise (a stop, its time); returns whether it is writable. */
  forWritable(fd: number): boolean;
  /**
   * Runs a send that waits for room itself: `send` polls `doorbell` (-1: none)
   * beside its descriptor for at most `timeoutMs` (-1: no limit) and sets
   * ended[0] to 0 (sent, or writable yet full), 1 (the doorbell rang) or 2
   * (timed out), as DgramSocket.sendBatchWaiting does. Returns what `send` returns.
   */
  within(send: (doorbell: number, timeoutMs: number, ended: Int32Array) => number): number;
}

export interface SinkTarget {
  readonly address: string;
  /** (Re)connects; throws the syscall error when the peer is absent. */
  connect(): void;
  /**
   * Sends records k < count (bytes `[offsets[k], offsets[k] + lengths[k])` of
   * `source`), waiting in `wait` for room for the first when there is none.
   * Returns how many went: 0 means there was still no room. Throws when the
   * peer is gone. `recordNumbers[k]` is record k's number in the stream, for
   * targets that look up its origin.
   */
  send(source: Uint8Array, offsets: Int32Array, lengths: Int32Array, count: number, wait: RoomWait, recordNumbers?: Int32Array): number;
  /**
   * Checks, without sending anything, that someone still holds the address;
   * throws the syscall error (a gone one: see isGone) when nobody does. The
   * drain loop calls it while idle, so a closed sink is noticed on a quiet bus.
   */
  probe(): void;
  close(): void;
}

/** The bus queue's shape: an mq sink's queue is created like it. */
export interface QueueShape {
  depth: number;
  messageSize: number;
  mode: number;
}

/** Errors that mean nobody is there any more: a dynamic sink is removed, a static one waits. */
const GONE = new Set(['ECONNREFUSED', 'ENOENT', 'ENOTCONN', 'ECONNRESET', 'EPIPE']);
export const isGone = (err: unknown): boolean => GONE.has((err as { code?: string })?.code ?? '');
