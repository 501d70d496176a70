/**
 * The daemon's shared memory beside the ring: flags the main thread sets to
 * steer its threads, and counters they keep so that `stats` costs a few
 * plain loads, never a message round trip.
 *
 *   header (64 B): ingest stop, live sink count, ingest state, ingested, ingest's doorbell
 *     (descriptor + 1), ingest's wake word, too-large events
 *   one 64-byte line per sink: see SinkEntry (src/sink/state.ts)
 *
 * Waits in those threads are wakeable, never timed checks of a flag: a stop
 * request changes its word, notifies it, and rings the thread's doorbell (an
 * eventfd its poll(2) watches beside its socket or queue). The thread that
 * creates the state (the main thread) owns every doorbell and closes them in
 * close(), once the threads that poll them have ended.
 */
import { Doorbell } from '../native';
import { addLiveSinks, SINK_DOORBELL_WORD, SINK_LINE_BYTES, SinkEntry, type DaemonWords } from '../sink/state';

const Header = {
  INGEST_STOP: 0, LIVE_SINKS: 1, INGEST_STATE: 2, INGESTED_F64_BYTE: 16,
  INGEST_DOORBELL: 6, INGEST_WAKE: 8, TOO_LARGE_EVENTS: 9,
} as const;
const HEADER_BYTES = 64;
const lineWord = (index: number): number => (HEADER_BYTES + SINK_LINE_BYTES * index) >> 2;
const DAEMON_WORDS: DaemonWords = { liveSinks: Header.LIVE_SINKS, ingestWake: Header.INGEST_WAKE, tooLargeEvents: Header.TOO_LARGE_EVENTS };

/** The doorbells, on the owning side only: ingest's and one per running sink. */
interface Doorbells {
  ingest: Doorbell;
  sinks: (Doorbell | undefined)[];
}

export class SharedState {
  readonly i32: Int32Array;
  private readonly f64: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer, private readonly doorbells: Doorbells | null = null) {
    this.i32 = new Int32Array(buffer);
    this.f64 = new Float64Array(buffer);
    if (doorbells) {
      Atomics.store(this.i32, Header.INGEST_DOORBELL, doorbells.ingest.fd + 1);
    }
  }

  /** The owner's state (the main thread's): it holds the doorbells. */
  static create(maxSinks: number): SharedState {
    return new SharedState(new SharedArrayBuffer(HEADER_BYTES + SINK_LINE_BYTES * maxSinks), { ingest: new Doorbell(), sinks: [] });
  }

  /** Closes the doorbells (owner only): call once no thread that polls them is left. */
  close(): void {
    if (!this.doorbells) return;
    const { ingest, sinks } = this.doorbells;
    for (const bell of [ingest, ...sinks]) bell?.close();
  }

  // ---- ingest ----

  /** 0: run; 1: stop taking messages; 2: also abandon what was taken but not yet written. */
  get ingestStop(): number {
    return Atomics.load(this.i32, Header.INGEST_STOP);
  }

  /**
   * Wakes ingest where it waits for sinks or for input. Ingest waiting for
   * room in the ring is woken by the ring (Ring.signalWriter), as it sleeps on the ring's word.
   */
  requestIngestStop(abandon = false): void {
    Atomics.store(this.i32, Header.INGEST_STOP, abandon ? 2 : 1);
    Atomics.add(this.i32, Header.INGEST_WAKE, 1);
    Atomics.notify(this.i32, Header.INGEST_WAKE);
    this.doorbells?.ingest.ring();
  }

  /** Ingest's doorbell (rung by a stop request), for its poll(2) beside its queue; -1 when none. */
  get ingestDoorbellFd(): number {
    return Atomics.load(this.i32, Header.INGEST_DOORBELL) - 1;
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
    addLiveSinks(this.i32, DAEMON_WORDS, n);
  }

  /**
   * Ingest sleeps here while there are no live sinks, until one goes live or
   * a stop is requested: both bump the wake word before notifying it, and
   * it is loaded before the checks, so neither is slept through.
   */
  waitForLiveSinks(): void {
    const wake = Atomics.load(this.i32, Header.INGEST_WAKE);
    if (this.liveSinks !== 0 || this.ingestStop !== 0) return;
    Atomics.wait(this.i32, Header.INGEST_WAKE, wake);
  }

  // ---- sinks ----

  /** Sink line `index`; on the owning side, with its doorbell (made when the line's sink first asks). */
  sink(index: number): SinkEntry {
    let bell: Doorbell | null = null;
    if (this.doorbells) bell = this.doorbells.sinks[index] ??= new Doorbell();
    return new SinkEntry(this.i32, this.f64, lineWord(index), DAEMON_WORDS, bell);
  }

  /**
   * Closes sink line `index`'s doorbell (owner only). Call it once the sink
   * worker that polled it has ended: the line's next sink gets a new one, and
   * a late stop request rings nothing (a closed Doorbell ignores ring()).
   */
  closeSinkDoorbell(index: number): void {
    const bell = this.doorbells?.sinks[index];
    if (!bell) return;
    this.doorbells.sinks[index] = undefined;
    Atomics.store(this.i32, lineWord(index) + SINK_DOORBELL_WORD, 0);
    bell.close();
  }

  /** Resolves once the live-sink count has gone to or from none since it was `seen` (see addLiveSinks); no timer. */
  async liveSinksAfter(seen: number): Promise<void> {
    const wait = Atomics.waitAsync(this.i32, Header.LIVE_SINKS, seen);
    if (wait.async) await wait.value;
  }

  /** Ends ingest's wait for input (owner only), so that it looks at the live sinks again. */
  wakeIngest(): void {
    this.doorbells?.ingest.ring();
  }

  /** How many times sinks have counted messages too large for them (SinkEntry.count). */
  get tooLargeEvents(): number {
    return Atomics.load(this.i32, Header.TOO_LARGE_EVENTS);
  }

  /** Resolves once tooLargeEvents differs from `seen`, without blocking the event loop and without a timer. */
  async tooLargeAfter(seen: number): Promise<void> {
    const wait = Atomics.waitAsync(this.i32, Header.TOO_LARGE_EVENTS, seen);
    if (wait.async) await wait.value;
  }
}
