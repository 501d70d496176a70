/**
 * A readable watcher: libuv polls a descriptor on this thread's event loop
 * and calls `onReadable(null)` whenever it is readable, so that a thread that
 * serves its loop can receive without blocking and without a thread of its own.
 *
 *   const watcher = new ReadableWatcher(socket.fd, (err) => { drain until nothing is queued });
 *   ...
 *   watcher.close();   // before closing the descriptor
 *
 * Level-triggered: while the descriptor stays readable, it is called again on
 * the loop's next turn, so a callback may take part of what is queued. An
 * error from libuv (e.g. EBADF) is passed once, as an Error with `code`; the
 * watcher has then stopped. After close() it is never called again. An open
 * watcher keeps the loop running and itself alive; the descriptor stays the
 * caller's, and libuv sets it O_NONBLOCK.
 */
import { nativeBinding, type NativeWatcher } from './binding';

export class ReadableWatcher {
  readonly #native = nativeBinding();
  readonly #watcher: NativeWatcher;

  constructor(fd: number, onReadable: (error: Error | null) => void) {
    this.#watcher = this.#native.watchOpen(fd, onReadable);
  }

  /** Idempotent. */
  close(): void {
    this.#native.watchClose(this.#watcher);
  }
}
