/**
 * Counters of the sources beside the bus queue (multicast groups, the NATS
 * subject), in shared memory: ingest (or the bridge thread) adds, the main
 * thread reads them for stats. One 32-byte line per source.
 *
 *   received (f64): datagrams or messages taken in and written into the ring
 *   tooLarge (f64): longer than the bus's message size; never written
 *   dropped  (f64): arrived but could not be handed on (the NATS bridge's backlog was full)
 */
const LINE_F64 = 4;
const Field = { RECEIVED: 0, TOO_LARGE: 1, DROPPED: 2 } as const;

export class SourceCounters {
  private readonly f64: Float64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.f64 = new Float64Array(buffer);
  }

  static create(sources: number): SourceCounters {
    return new SourceCounters(new SharedArrayBuffer(Math.max(1, sources) * LINE_F64 * 8));
  }

  add(source: number, received: number, tooLarge: number, dropped = 0): void {
    this.f64[source * LINE_F64 + Field.RECEIVED] += received;
    this.f64[source * LINE_F64 + Field.TOO_LARGE] += tooLarge;
    this.f64[source * LINE_F64 + Field.DROPPED] += dropped;
  }

  dropped(source: number): number {
    return this.f64[source * LINE_F64 + Field.DROPPED];
  }

  received(source: number): number {
    return this.f64[source * LINE_F64 + Field.RECEIVED];
  }

  tooLarge(source: number): number {
    return this.f64[source * LINE_F64 + Field.TOO_LARGE];
  }
}
