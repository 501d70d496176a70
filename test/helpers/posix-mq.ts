/**
 * The `posix-mq` npm package as an independent peer in the interop tests.
 *
 * Closing a posix-mq handle needs care: its uv_close callback runs later and
 * reads the object, so a handle garbage-collected in between crashes the
 * process (measured: SIGSEGV with a gc() between close and the next loop
 * turn). closeMq() keeps a closed handle alive until that callback has run.
 */
import type PosixMQ from 'posix-mq';

const closing = new Set<PosixMQ>();

/** Closes a posix-mq handle and keeps it reachable until libuv has finished closing it. */
export function closeMq(mq: PosixMQ): void {
  mq.close();
  closing.add(mq);
  // The second hop runs in a later loop iteration than the close, so after its close phase.
  setImmediate(() => setImmediate(() => closing.delete(mq)));
}
