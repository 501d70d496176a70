/**
 * The ring's one wait strategy, used by the writer (waiting for room) and by
 * every reader (waiting for records), blocking (`Atomics.wait`, threads) or
 * not (`Atomics.waitAsync`, an event loop that must not block):
 *
 *   1. spin briefly: the other side is often only nanoseconds away;
 *   2. flag yourself asleep: bump the side's SLEEPS word;
 *   3. load the word you sleep on, check once more, and wait while it holds
 *      the value you loaded;
 *   4. on waking, check again (and flag again before sleeping again).
 *
 * The waking side changes the word first, then notifies only when SLEEPS
 * moved since it last notified (`Waker`). Atomics are sequentially
 * consistent, so either the waker sees the flag, or the sleeper's load sees
 * the changed word and does not sleep: nobody sleeps through a change. A flag
 * is "unset" by being notified once: a waiter that was woken for nothing
 * new, or timed out, costs at most one extra notify, and a ring where nobody
 * sleeps makes no futex calls at all.
 */

/**
 * The sleep primitive under a WaitStrategy and a Waker. Threads of one
 * process use Atomics; a ring shared with other processes sleeps with futex
 * and wakes both kinds (`processSleeper` in process-waits.ts).
 */
export interface Sleeper {
  sleep(i32: Int32Array, word: number, value: number, timeoutMs: number): void;
  /** null when the word no longer holds `value` (or the wait timed out at once). */
  sleepAsync(i32: Int32Array, word: number, value: number, timeoutMs: number): Promise<unknown> | null;
  notify(i32: Int32Array, word: number): void;
}

export const threadSleeper: Sleeper = {
  sleep: (i32, word, value, timeoutMs) => void Atomics.wait(i32, word, value, timeoutMs),
  sleepAsync: (i32, word, value, timeoutMs) => {
    const result = Atomics.waitAsync(i32, word, value, timeoutMs);
    return result.async ? result.value : null;
  },
  notify: (i32, word) => void Atomics.notify(i32, word),
};

/** Checks of the condition before going to sleep. */
export const SPIN_LIMIT = 128;

/** Milliseconds left until `deadline` (Infinity when there is none). */
export function remaining(deadline: number): number {
  return deadline === Infinity ? Infinity : Math.max(0, deadline - Date.now());
}

export function deadlineAfter(timeoutMs: number | undefined): number {
  return timeoutMs === undefined || timeoutMs === Infinity ? Infinity : Date.now() + Math.max(0, timeoutMs);
}

/** What one wait is for. */
export interface WaitFor {
  /** True once the wait is over. May throw (a closed writer, an evicted reader). */
  ready(): boolean;
  /** Called once before the first sleep (after the spin). */
  beforeSleep?(): void;
  /** Called once when the wait ends, if it slept. */
  afterSleep?(): void;
  /** Longest single sleep in ms (e.g. until an eviction budget runs out); Infinity when none. */
  sleepCap?(): number;
}

export class WaitStrategy {
  /**
   * @param word the Int32 word the other side changes (and notifies on)
   * @param sleepsWord the word this side bumps before each sleep
   */
  constructor(
    private readonly i32: Int32Array,
    private readonly word: number,
    private readonly sleepsWord: number,
    private readonly sleeper: Sleeper = threadSleeper,
  ) {}

  /** Blocks the thread until `ready()` or `deadline`; returns the last `ready()`. */
  waitSync(what: WaitFor, deadline: number): boolean {
    for (let i = 0; i < SPIN_LIMIT; i++) if (what.ready()) return true;
    const { i32, word, sleepsWord } = this;
    what.beforeSleep?.();
    try {
      for (;;) {
        Atomics.add(i32, sleepsWord, 1);
        const value = Atomics.load(i32, word);
        if (what.ready()) return true;
        const left = remaining(deadline);
        if (left === 0) return false;
        this.sleeper.sleep(i32, word, value, Math.min(left, what.sleepCap?.() ?? Infinity));
      }
    } finally {
      what.afterSleep?.();
    }
  }

  /** Like waitSync without blocking the event loop, and without a deadline. */
  async waitAsync(what: WaitFor): Promise<void> {
    for (let i = 0; i < SPIN_LIMIT; i++) if (what.ready()) return;
    const { i32, word, sleepsWord } = this;
    what.beforeSleep?.();
    try {
      for (;;) {
        Atomics.add(i32, sleepsWord, 1);
        const value = Atomics.load(i32, word);
        if (what.ready()) return;
        const sleeping = this.sleeper.sleepAsync(i32, word, value, what.sleepCap?.() ?? Infinity);
        if (sleeping !== null) await sleeping;
      }
    } finally {
      what.afterSleep?.();
    }
  }
}

/** The waking side of a WaitStrategy: call `wake()` after changing the word. */
export class Waker {
  private notified = 0;

  /**
   * @param extraSleeps more sleeps words summed with `sleepsWord` (the process
   *   slots' own words, whose readers cannot write the header)
   */
  constructor(
    private readonly i32: Int32Array,
    private readonly word: number,
    private readonly sleepsWord: number,
    private readonly sleeper: Sleeper = threadSleeper,
    private readonly extraSleeps: readonly number[] = [],
  ) {}

  /** Notifies the word's sleepers if any flagged themselves since the last notify. */
  wake(): void {
    const sleeps = this.sleeps();
    if (sleeps === this.notified) return;
    this.notified = sleeps;
    this.sleeper.notify(this.i32, this.word);
  }

  /** Notifies unconditionally (a close, a reclaim: rare, and the flag may belong to another waker). */
  wakeAll(): void {
    this.notified = this.sleeps();
    this.sleeper.notify(this.i32, this.word);
  }

  private sleeps(): number {
    let sleeps = Atomics.load(this.i32, this.sleepsWord);
    for (const word of this.extraSleeps) sleeps = (sleeps + Atomics.load(this.i32, word)) | 0;
    return sleeps;
  }
}
