/**
 * How a thread waits for a word in the ring to change: a brief spin (the
 * other side is often only nanoseconds away), then a real sleep on the word
 * with `Atomics.wait` (threads) or `Atomics.waitAsync` (an event loop that
 * must not block). The side that changes the word notifies only when the
 * waiter has flagged itself, so an uncontended ring makes no futex calls.
 */

/** Checks of the condition before going to sleep. */
export const SPIN_LIMIT = 64;

/** Milliseconds left until `deadline` (Infinity when there is none). */
export function remaining(deadline: number): number {
  return deadline === Infinity ? Infinity : Math.max(0, deadline - Date.now());
}

export function deadlineAfter(timeoutMs: number | undefined): number {
  return timeoutMs === undefined || timeoutMs === Infinity ? Infinity : Date.now() + Math.max(0, timeoutMs);
}

/** Spins until `ready()` or the spin budget runs out. */
export function spin(ready: () => boolean): boolean {
  for (let i = 0; i < SPIN_LIMIT; i++) if (ready()) return true;
  return false;
}

/** Sleeps while `i32[index] === expected`, at most `timeoutMs`. */
export function sleepSync(i32: Int32Array, index: number, expected: number, timeoutMs: number): void {
  Atomics.wait(i32, index, expected, timeoutMs);
}

/** Like sleepSync, without blocking the event loop. */
export async function sleepAsync(i32: Int32Array, index: number, expected: number, timeoutMs: number): Promise<void> {
  const result = Atomics.waitAsync(i32, index, expected, timeoutMs);
  if (result.async) await result.value;
}
