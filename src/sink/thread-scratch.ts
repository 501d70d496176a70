/**
 * Memory a sink thread keeps from one sink to the next. A thread of the sink
 * pool serves many sinks in turn; if each allocated its batch arrays afresh,
 * the last one's would be garbage that V8 collects only when the thread's
 * heap grows, and that the thread's malloc arena then keeps: thousands of
 * short-lived sinks made the daemon's RSS climb by hundreds of MB. So a
 * sink leases its arrays here and gives them back when it ends; the next
 * sink on the thread takes the same memory.
 *
 *   leaseScratch(bytes): ArrayBuffer   at least `bytes`; the kept one when it is large enough
 *   returnScratch(buffer)              keeps the larger of it and what is kept
 *
 * One spare per thread (module state is per thread): a lease that finds it
 * taken, or too small, allocates.
 */
let spare: ArrayBuffer | null = null;

export function leaseScratch(bytes: number): ArrayBuffer {
  if (spare !== null && spare.byteLength >= bytes) {
    const taken = spare;
    spare = null;
    return taken;
  }
  return new ArrayBuffer(bytes);
}

export function returnScratch(buffer: ArrayBuffer): void {
  if (spare === null || buffer.byteLength > spare.byteLength) spare = buffer;
}
