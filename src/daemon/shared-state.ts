/**
 * The daemon's shared memory beside the ring: flags the main thread sets to
 * steer its threads, and counters they keep so that `stats` costs a few
 * plain loads, never a message round trip.
 *
 *   header (64 B): ingest stop, live sink count, ingest state, control-receiver stop, ingested
 *   one 64-byte line per sink: see SinkEntry (src/sink/state.ts)
 */
import { SINK_LINE_BYTES, SinkEntry } from '../sink/state';

const Header = { INGEST_STOP: 0, LIVE_SINKS: 1, INGEST_STATE: 2, CONTROL_STOP: 3, INGESTED_F64_BYTE: 16 } as const;
const HEADER_BYTES = 64;

export class SharedState {
  readonly i32: Int32Array;
  private readonly f64: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
  }

  static create(maxSinks: number): SharedState {
    return new SharedState(new SharedArrayBuffer(HEADER_BYTES + SINK_LINE_BYTES * maxSinks));
  }

  // ---- ingest ----

  /** 0: run; 1: stop taking messages; 2: also abandon what was taken but not yet written. */
  get ingestStop(): number {
    return Atomics.load(this.i32, Header.INGEST_STOP);
  }

  requestIngestStop(abandon = false): void {
    Atomics.store(this.i32, Header.INGEST_STOP, abandon ? 2 : 1);
    Atomics.notify(this.i32, Header.LIVE_SINKS); // wakes an ingest idling for sinks
  }

  /** One of IngestState (src/daemon/ingest.ts). */
  get ingestState(): number {
    return Atomics.load(this.i32, Header.INGEST_STATE);
  }

  set ingestState(state: number) {
    Atomics.store(this.i32, Header.INGEST_STATE, state);
  }

  /** Messages taken off the queue and written into the ring. */
  get ingested(): number {
    return this.f64[Header.INGESTED_F64_BYTE >> 3];
  }

  addIngested(n: number): void {
    this.f64[Header.INGESTED_F64_BYTE >> 3] += n;
  }

  /** Sinks that are joined and reachable: with none, ingest leaves messages in the queue. */
  get liveSinks(): number {
    return Atomics.load(this.i32, Header.LIVE_SINKS);
  }

  /** Readers that are not sink workers (attached processes) joining (+1) or leaving (-1) the live count. */
  addLiveSinks(n: number): void {
    if (Atomics.add(this.i32, Header.LIVE_SINKS, n) === 0 && n > 0) Atomics.notify(this.i32, Header.LIVE_SINKS);
  }

  /** Ingest sleeps here while there are no live sinks (or until `timeoutMs`). */
  waitForLiveSinks(timeoutMs: number): void {
    Atomics.wait(this.i32, Header.LIVE_SINKS, 0, timeoutMs);
  }

  // ---- control receiver ----

  get controlStopRequested(): boolean {
    return Atomics.load(this.i32, Header.CONTROL_STOP) !== 0;
  }

  requestControlStop(): void {
    Atomics.store(this.i32, Header.CONTROL_STOP, 1);
  }

  // ---- sinks ----

  sink(index: number): SinkEntry {
    return new SinkEntry(this.i32, this.f64, (HEADER_BYTES + SINK_LINE_BYTES * index) >> 2, Header.LIVE_SINKS);
  }
}
