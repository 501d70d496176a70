/**
 * A doorbell: an eventfd(2) one thread rings to end another thread's
 * poll(2), so that a blocked wait can watch "the socket is writable" and
 * "someone wants me to stop" at once, without a timeout to check a flag.
 *
 *   const bell = new Doorbell();            // the owning thread
 *   worker gets bell.fd (a number)
 *   pollEach([socketFd, bell.fd], [2, 1], …) // the waiting thread
 *   clearDoorbell(bell.fd)                   // the waiting thread, once woken
 *   bell.ring()                              // the owning thread
 *
 * Lifetime: the thread that creates it owns it, alone rings it and alone
 * closes it — and closes it only once no thread can still be polling the
 * number, so a ring never lands on a descriptor that was closed and reused.
 */
import { nativeBinding, type NativeHandle } from './binding';

export class Doorbell {
  readonly #native = nativeBinding();
  readonly #handle: NativeHandle;

  constructor() {
    this.#handle = this.#native.eventfdOpen();
  }

  /** The descriptor number a waiting thread polls (readable once rung); -1 once closed. */
  get fd(): number {
    return this.#native.fd(this.#handle);
  }

  /** Makes the descriptor readable until a waiter clears it. Once closed, does nothing: nobody waits on it any more. */
  ring(): void {
    if (this.fd >= 0) this.#native.eventfdSignal(this.#handle);
  }

  close(): void {
    this.#native.close(this.#handle);
  }
}

/** Called by the waiting thread on a doorbell it was woken by: it stops being readable. Returns whether it was rung. */
export function clearDoorbell(fd: number): boolean {
  return nativeBinding().eventfdClear(fd);
}
