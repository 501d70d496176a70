/**
 * Where the records of one write call come from, so that the single, batch
 * and region writes share one write core. The writer keeps one instance of
 * each and points it at the call's arguments: no allocation per call.
 */
export type Bytes = Uint8Array;

export interface RecordSource {
  /** Payload length of record `k`. */
  length(k: number): number;
  /** Copies record `k` into `u8` at byte `at`. */
  copyTo(k: number, u8: Uint8Array, at: number): void;
}

/** Records given as an array of byte arrays (one record is an array of one). */
export class ArraySource implements RecordSource {
  records: readonly Bytes[] = [];

  length(k: number): number {
    return this.records[k].length;
  }

  copyTo(k: number, u8: Uint8Array, at: number): void {
    u8.set(this.records[k], at);
  }
}

/** Records lying in one receive buffer at `offsets[k]`, `lengths[k]`. */
export class RegionSource implements RecordSource {
  source: Bytes = new Uint8Array(0);
  offsets: Int32Array = new Int32Array(0);
  lengths: Int32Array = new Int32Array(0);

  length(k: number): number {
    return this.lengths[k];
  }

  copyTo(k: number, u8: Uint8Array, at: number): void {
    const from = this.offsets[k];
    u8.set(this.source.subarray(from, from + this.lengths[k]), at);
  }
}
