/**
 * How threads of different processes sleep on a ring's words.
 *
 * `Atomics.wait/notify` reach only threads of one process (V8 keeps its own
 * waiter lists), so a ring in shared memory that other processes read needs
 * futex(2) on the shared word. The ring has no I/O: the futex calls are
 * registered here by the shared-memory module (src/shm) and looked up when a
 * ring whose header says it has process slots is attached.
 */
import { ErrorCode, MsgmuxError } from '../errors';
import { Header, Slot, slotBase, type RingViews } from './layout';
import { threadSleeper, type Sleeper } from './wait-strategy';

/** Futex calls on Int32 word `word` of `buffer` (FUTEX_WAIT / FUTEX_WAKE, not the private variants). */
export interface ProcessWaits {
  wait(buffer: SharedArrayBuffer, word: number, value: number, timeoutMs: number): void;
  waitAsync(buffer: SharedArrayBuffer, word: number, value: number, timeoutMs: number): Promise<unknown>;
  wake(buffer: SharedArrayBuffer, word: number): void;
}

let registered: ProcessWaits | null = null;

export function registerProcessWaits(waits: ProcessWaits): void {
  registered = waits;
}

export function processWaits(): ProcessWaits {
  if (registered === null) {
    throw new MsgmuxError(
      ErrorCode.RING_INVALID,
      "this ring is shared with other processes and needs msgmux's shared-memory binding: import 'msgmux' (or its src/shm) before Ring.attach",
    );
  }
  return registered;
}

/**
 * The longest a sleeper waits on a word that another process may change
 * without bumping it (a reader there maps the ring read-only and can only
 * wake the writer, not bump its word): a wake that races the sleep is then
 * late by at most this much, never lost. The writer waiting for room sleeps
 * this way.
 */
export const PROCESS_SLEEP_CAP_MS = 2;

/**
 * The longest a reader in another process sleeps waiting for records. The
 * writer bumps the word it sleeps on (the write cursor) before it wakes, and
 * futex compares the word before sleeping, so no wake is lost and no short
 * cap is needed: a 2 ms cap made every idle reader wake 500 times a second,
 * which on a small machine takes cores from the writer and the readers that
 * have work. The cap only bounds how late a reader learns of a change nobody
 * woke it for.
 */
export const RECORDS_SLEEP_CAP_MS = 250;

/**
 * Sleeps with futex, each sleep at most `capMs` (PROCESS_SLEEP_CAP_MS unless
 * the other side always bumps the word before it wakes); wakes futex and
 * Atomics sleepers.
 */
export function processSleeper(waits: ProcessWaits, capMs = PROCESS_SLEEP_CAP_MS): Sleeper {
  const cap = (ms: number): number => Math.min(ms, capMs);
  return {
    sleep: (i32, word, value, timeoutMs) => waits.wait(i32.buffer as SharedArrayBuffer, word, value, cap(timeoutMs)),
    sleepAsync: (i32, word, value, timeoutMs) => waits.waitAsync(i32.buffer as SharedArrayBuffer, word, value, cap(timeoutMs)),
    notify: (i32, word) => {
      Atomics.notify(i32, word);
      waits.wake(i32.buffer as SharedArrayBuffer, word);
    },
  };
}

/** The sleeper for waits and wakes on this ring: futex when processes share it, Atomics otherwise. */
export function ringSleeper(ring: RingViews, capMs?: number): Sleeper {
  return ring.processWaits === null ? threadSleeper : processSleeper(ring.processWaits, capMs);
}

/** The process slots' reader slot numbers (none for a thread ring). */
export function processSlots(ring: RingViews): number[] {
  const { i32 } = ring;
  const first = i32[Header.PROCESS_SLOT_FIRST];
  const stride = i32[Header.PROCESS_SLOT_STRIDE];
  return Array.from({ length: i32[Header.PROCESS_SLOT_COUNT] }, (_, k) => first + k * stride);
}

/** The SLEEPS word of every process slot, which the writer sums with the header's READER_SLEEPS. */
export const processSleepsWords = (ring: RingViews): number[] => processSlots(ring).map((s) => slotBase(s) + Slot.SLEEPS);
