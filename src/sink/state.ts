/**
 * One sink's line in the daemon's shared memory (src/daemon/shared-state.ts):
 * its worker writes state and counters, the main thread writes `stop`.
 *
 *   state, stop request, ring slot, reachable, delivered (f64), dropped (f64)
 */

export const SINK_LINE_BYTES = 64;
const Line = { STATE: 0, STOP: 1, SLOT: 2, REACHABLE: 3, DELIVERED_F64_BYTE: 16, DROPPED_F64_BYTE: 24 } as const;

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

  get delivered(): number {
    return this.f64[(this.word << 2) / 8 + Line.DELIVERED_F64_BYTE / 8];
  }

  get dropped(): number {
    return this.f64[(this.word << 2) / 8 + Line.DROPPED_F64_BYTE / 8];
  }

  count(delivered: number, dropped: number): void {
    const base = (this.word << 2) / 8;
    this.f64[base + Line.DELIVERED_F64_BYTE / 8] += delivered;
    this.f64[base + Line.DROPPED_F64_BYTE / 8] += dropped;
  }
}
