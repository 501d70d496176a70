/**
 * One sink's line in the daemon's shared memory (src/daemon/shared-state.ts):
 * its worker writes state and counters, the main thread writes `stop`.
 *
 *   state, stop request, ring slot, reachable, then f64 counters:
 *   delivered; dropped by policy (a drop sink lapped or without room);
 *   undelivered (the sink was absent, or could not take a message); too large (of those, EMSGSIZE)
 */

export const SINK_LINE_BYTES = 64;
const Line = {
  STATE: 0, STOP: 1, SLOT: 2, REACHABLE: 3,
  DELIVERED_F64_BYTE: 16, BY_POLICY_F64_BYTE: 24, UNDELIVERED_F64_BYTE: 32, TOO_LARGE_F64_BYTE: 40,
} as const;

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

export class SinkEntry {
  /**
   * @param word        the line's first Int32 index
   * @param liveSinksWord  the Int32 index of the daemon's live-sink count, kept in step with `reachable`
   */
  constructor(
    private readonly i32: Int32Array,
    private readonly f64: Float64Array,
    private readonly word: number,
    private readonly liveSinksWord: number,
  ) {}

  reset(): void {
    this.i32.fill(0, this.word, this.word + SINK_LINE_BYTES / 4);
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

  requestStop(how: number): void {
    Atomics.store(this.i32, this.word + Line.STOP, how);
    Atomics.notify(this.i32, this.word + Line.STOP);
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
    if (Atomics.add(this.i32, this.liveSinksWord, reachable ? 1 : -1) === 0 && reachable) {
      Atomics.notify(this.i32, this.liveSinksWord);
    }
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

  /** Only the sink's own worker counts. `tooLarge` is a part of `undelivered`, counted in both. */
  count(delivered: number, droppedByPolicy = 0, undelivered = 0, tooLarge = 0): void {
    const base = (this.word << 2) / 8;
    this.f64[base + Line.DELIVERED_F64_BYTE / 8] += delivered;
    this.f64[base + Line.BY_POLICY_F64_BYTE / 8] += droppedByPolicy;
    this.f64[base + Line.UNDELIVERED_F64_BYTE / 8] += undelivered;
    this.f64[base + Line.TOO_LARGE_F64_BYTE / 8] += tooLarge;
  }
}
