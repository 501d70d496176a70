/**
 * The daemon's shared memory beside the ring: flags the main thread sets to
 * steer its workers, and counters the workers keep so that `stats` costs a
 * few plain loads, never a message round trip.
 *
 *   header (64 B): ingest stop, live sink count, ingest state, control stop, ingested
 *   one 64-byte entry per sink: state, stop request, ring slot, reachable,
 *                               delivered, dropped
 */

const LINE = 64;

const Ingest = { STOP: 0, LIVE_SINKS: 1, STATE: 2, CONTROL_STOP: 3, INGESTED_F64_BYTE: 16 } as const;
const Entry = { STATE: 0, STOP: 1, SLOT: 2, REACHABLE: 3, DELIVERED_F64_BYTE: 16, DROPPED_F64_BYTE: 24 } as const;

export const IngestState = { STARTING: 0, WAITING_FOR_SINKS: 1, READING: 2, STOPPED: 3, WAITING_FOR_ROOM: 4 } as const;
export const SinkState = { FREE: 0, STARTING: 1, JOINED: 2, DONE: 3 } as const;
/** What the main thread asks of a sink worker. */
export const StopRequest = { RUN: 0, DRAIN: 1, NOW: 2 } as const;

export class ControlBlock {
  readonly i32: Int32Array;
  private readonly f64: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
  }

  static create(maxSinks: number): ControlBlock {
    return new ControlBlock(new SharedArrayBuffer(LINE * (1 + maxSinks)));
  }

  // ---- ingest ----

  /** 0: run; 1: stop taking messages; 2: also abandon what was taken but not yet written. */
  get ingestStop(): number {
    return Atomics.load(this.i32, Ingest.STOP);
  }

  requestIngestStop(abandon = false): void {
    Atomics.store(this.i32, Ingest.STOP, abandon ? 2 : 1);
    Atomics.notify(this.i32, Ingest.LIVE_SINKS); // wakes an ingest idling for sinks
  }

  get ingestState(): number {
    return Atomics.load(this.i32, Ingest.STATE);
  }

  set ingestState(state: number) {
    Atomics.store(this.i32, Ingest.STATE, state);
  }

  /** Messages taken off the queue and written into the ring. */
  get ingested(): number {
    return this.f64[Ingest.INGESTED_F64_BYTE >> 3];
  }

  addIngested(n: number): void {
    this.f64[Ingest.INGESTED_F64_BYTE >> 3] += n;
  }

  /** Sinks that are joined and reachable: with none, ingest leaves messages in the queue. */
  get liveSinks(): number {
    return Atomics.load(this.i32, Ingest.LIVE_SINKS);
  }

  /** Ingest sleeps here while there are no live sinks (or until `timeoutMs`). */
  waitForLiveSinks(timeoutMs: number): void {
    Atomics.wait(this.i32, Ingest.LIVE_SINKS, 0, timeoutMs);
  }

  // ---- control socket ----

  get controlStopRequested(): boolean {
    return Atomics.load(this.i32, Ingest.CONTROL_STOP) !== 0;
  }

  requestControlStop(): void {
    Atomics.store(this.i32, Ingest.CONTROL_STOP, 1);
  }

  // ---- sinks ----

  sink(index: number): SinkEntry {
    return new SinkEntry(this.i32, this.f64, (LINE * (1 + index)) >> 2);
  }
}

/** One sink's entry: the worker writes state and counters, the main thread writes `stop`. */
export class SinkEntry {
  constructor(
    private readonly i32: Int32Array,
    private readonly f64: Float64Array,
    private readonly word: number,
  ) {}

  reset(): void {
    this.i32.fill(0, this.word, this.word + LINE / 4);
  }

  get state(): number {
    return Atomics.load(this.i32, this.word + Entry.STATE);
  }

  set state(state: number) {
    Atomics.store(this.i32, this.word + Entry.STATE, state);
    Atomics.notify(this.i32, this.word + Entry.STATE);
  }

  /** Resolves once the state differs from `from` (the main thread must not block). */
  async stateChangeFrom(from: number, timeoutMs: number): Promise<number> {
    const wait = Atomics.waitAsync(this.i32, this.word + Entry.STATE, from, timeoutMs);
    if (wait.async) await wait.value;
    return this.state;
  }

  get stop(): number {
    return Atomics.load(this.i32, this.word + Entry.STOP);
  }

  requestStop(how: number): void {
    Atomics.store(this.i32, this.word + Entry.STOP, how);
    Atomics.notify(this.i32, this.word + Entry.STOP);
  }

  /** Sleeps up to `ms` unless a stop is requested meanwhile: a backoff that never delays a stop. */
  napUnlessStopped(ms: number): void {
    Atomics.wait(this.i32, this.word + Entry.STOP, StopRequest.RUN, ms);
  }

  get slot(): number {
    return this.i32[this.word + Entry.SLOT];
  }

  set slot(slot: number) {
    this.i32[this.word + Entry.SLOT] = slot;
  }

  get reachable(): boolean {
    return Atomics.load(this.i32, this.word + Entry.REACHABLE) !== 0;
  }

  /**
   * Marks the sink reachable or not, keeping the live-sink count that ingest
   * watches in step. Only the sink's own worker calls this.
   */
  setReachable(reachable: boolean): void {
    if (this.reachable === reachable) return;
    Atomics.store(this.i32, this.word + Entry.REACHABLE, reachable ? 1 : 0);
    if (Atomics.add(this.i32, Ingest.LIVE_SINKS, reachable ? 1 : -1) === 0 && reachable) {
      Atomics.notify(this.i32, Ingest.LIVE_SINKS);
    }
  }

  get delivered(): number {
    return this.f64[(this.word << 2) / 8 + Entry.DELIVERED_F64_BYTE / 8];
  }

  get dropped(): number {
    return this.f64[(this.word << 2) / 8 + Entry.DROPPED_F64_BYTE / 8];
  }

  count(delivered: number, dropped: number): void {
    const base = (this.word << 2) / 8;
    this.f64[base + Entry.DELIVERED_F64_BYTE / 8] += delivered;
    this.f64[base + Entry.DROPPED_F64_BYTE / 8] += dropped;
  }
}
