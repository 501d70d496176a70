/**
 * One sink's line in the daemon's shared memory (src/daemon/shared-state.ts):
 * its worker writes state and counters, the main thread writes `stop`.
 *
 *   state, stop request, ring slot, reachable, then f64 counters:
 *   delivered; dropped by policy (a drop sink lapped or without room);
 *   undelivered (the sink was absent, or could not take a message); too large (of those, EMSGSIZE);
 *   then the sink's doorbell (its descriptor + 1; 0: none), which a stop request rings
 */
import type { Doorbell } from '../native';

export const SINK_LINE_BYTES = 64;
const Line = {
  STATE: 0, STOP: 1, SLOT: 2, REACHABLE: 3,
  DELIVERED_F64_BYTE: 16, BY_POLICY_F64_BYTE: 24, UNDELIVERED_F64_BYTE: 32, TOO_LARGE_F64_BYTE: 40,
  DOORBELL: 12,
} as const;
/** The Int32 word of a line that holds its doorbell's descriptor + 1 (0: none). */
export const SINK_DOORBELL_WORD = Line.DOORBELL;

/** What became of messages a sink worker took from the ring. */
export interface SinkCounts {
  delivered: number;
  droppedByPolicy: number;
  undelivered: number;
  /** Part of `undelivered`: larger than the sink takes (EMSGSIZE); never sent truncated. */
  tooLarge: number;
}

export const SinkState = { FREE: 0, STARTING: 1, JOINED: 2, DONE: 3 } as const;
/** What the main thread asks of a sink worker. */
export const StopRequest = { RUN: 0, DRAIN: 1, NOW: 2 } as const;

/**
 * The daemon's words a sink line reports to (src/daemon/shared-state.ts):
 * the live-sink count and the word ingest sleeps on while there is none;
 * the count of too-large events, which the main thread waits on to log them.
 */
export interface DaemonWords {
  liveSinks: number;
  ingestWake: number;
  tooLargeEvents: number;
}

/**
 * Adds `n` to the live-sink count; the first live sink wakes ingest, which
 * sleeps on its wake word (bumped first, so it never sleeps through it).
 * Going to or from none also notifies the count's own word, for the main
 * thread's watch (SharedState.liveSinksAfter): when the last sink goes, it
 * rings ingest's doorbell, which only it may ring.
 */
export function addLiveSinks(i32: Int32Array, words: DaemonWords, n: number): void {
  const before = Atomics.add(i32, words.liveSinks, n);
  if (before === 0 && n > 0) {
    Atomics.add(i32, words.ingestWake, 1);
    Atomics.notify(i32, words.ingestWake);
  }
  if ((before === 0) !== (before + n === 0)) Atomics.notify(i32, words.liveSinks);
}

export class SinkEntry {
  /**
   * @param word        the line's first Int32 index
   * @param daemon      the daemon's words: the live-sink count, kept in step with `reachable`; too-large events
   * @param doorbell    the line's doorbell, on the thread that owns it (the main thread): a stop rings it
   */
  constructor(
    private readonly i32: Int32Array,
    private readonly f64: Float64Array,
    private readonly word: number,
    private readonly daemon: DaemonWords,
    private readonly doorbell: Doorbell | null = null,
  ) {
    if (doorbell) Atomics.store(i32, word + Line.DOORBELL, doorbell.fd + 1);
  }

  /** Clears the line for a new sink; the doorbell the owner gave it stays. */
  reset(): void {
    this.i32.fill(0, this.word, this.word + Line.DOORBELL);
    this.i32.fill(0, this.word + Line.DOORBELL + 1, this.word + SINK_LINE_BYTES / 4);
  }

  /**
   * The descriptor of the line's doorbell, which a stop request rings: a
   * sink worker blocked in poll(2) watches it too. -1 when the line has none.
   */
  get doorbellFd(): number {
    return Atomics.load(this.i32, this.word + Line.DOORBELL) - 1;
  }

  get state(): number {
    return Atomics.load(this.i32, this.word + Line.STATE);
  }

  set state(state: number) {
    Atomics.store(this.i32, this.word + Line.STATE, state);
    Atomics.notify(this.i32, this.word + Line.STATE);
  }

  /** Resolves once the state differs from `from` (the main thread must not block). */
  async stateChangeFrom(from: number, timeoutMs: number): Promise<number> {
    const wait = Atomics.waitAsync(this.i32, this.word + Line.STATE, from, timeoutMs);
    if (wait.async) await wait.value;
    return this.state;
  }

  get stop(): number {
    return Atomics.load(this.i32, this.word + Line.STOP);
  }

  /** Asks the worker to stop, waking it wherever it waits: a nap, or a poll(2) that watches the doorbell. */
  requestStop(how: number): void {
    Atomics.store(this.i32, this.word + Line.STOP, how);
    Atomics.notify(this.i32, this.word + Line.STOP);
    this.doorbell?.ring();
  }

  /** Sleeps up to `ms` unless a stop is requested meanwhile: a backoff that never delays a stop. */
  napUnlessStopped(ms: number): void {
    Atomics.wait(this.i32, this.word + Line.STOP, StopRequest.RUN, ms);
  }

  get slot(): number {
    return this.i32[this.word + Line.SLOT];
  }

  set slot(slot: number) {
    this.i32[this.word + Line.SLOT] = slot;
  }

  get reachable(): boolean {
    return Atomics.load(this.i32, this.word + Line.REACHABLE) !== 0;
  }

  /**
   * Marks the sink reachable or not, keeping the live-sink count that ingest
   * watches in step. Only the sink's own worker calls this.
   */
  setReachable(reachable: boolean): void {
    if (this.reachable === reachable) return;
    Atomics.store(this.i32, this.word + Line.REACHABLE, reachable ? 1 : 0);
    addLiveSinks(this.i32, this.daemon, reachable ? 1 : -1);
  }

  private f64At(byte: number): number {
    return this.f64[(this.word << 2) / 8 + byte / 8];
  }

  get delivered(): number {
    return this.f64At(Line.DELIVERED_F64_BYTE);
  }

  counts(): SinkCounts {
    return {
      delivered: this.f64At(Line.DELIVERED_F64_BYTE),
      droppedByPolicy: this.f64At(Line.BY_POLICY_F64_BYTE),
      undelivered: this.f64At(Line.UNDELIVERED_F64_BYTE),
      tooLarge: this.f64At(Line.TOO_LARGE_F64_BYTE),
    };
  }

  /**
   * Only the sink's own worker counts. `tooLarge` is a part of `undelivered`,
   * counted in both; counting some wakes the main thread, which logs them.
   */
  count(delivered: number, droppedByPolicy = 0, undelivered = 0, tooLarge = 0): void {
    const base = (this.word << 2) / 8;
    this.f64[base + Line.DELIVERED_F64_BYTE / 8] += delivered;
    this.f64[base + Line.BY_POLICY_F64_BYTE / 8] += droppedByPolicy;
    this.f64[base + Line.UNDELIVERED_F64_BYTE / 8] += undelivered;
    this.f64[base + Line.TOO_LARGE_F64_BYTE / 8] += tooLarge;
    if (tooLarge > 0) {
      Atomics.add(this.i32, this.daemon.tooLargeEvents, 1);
      Atomics.notify(this.i32, this.daemon.tooLargeEvents);
    }
  }
}
