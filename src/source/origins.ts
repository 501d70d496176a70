/**
 * Where each ring record came from, beside the ring: one byte per record,
 * indexed by the record's number (RecordBatch.recordNumbers). Ingest, the
 * ring's one writer, marks each record before it writes it; a network sink
 * (multicast, NATS) skips records that came from a network source, so a
 * message crosses at most one network hop and two buses joined both ways
 * never echo each other.
 *
 * Sizing: a record takes at least 8 bytes of the ring, so at most
 * capacity / 8 records are in the ring at once; ingest marks at most one
 * batch ahead of what it has written. capacity / 4 entries is twice that, so
 * a record's mark is never overwritten while the record can still be read.
 */
import { Header } from '../ring/layout';

export const Origin = { LOCAL: 0, MULTICAST: 1, NATS: 2 } as const;
export type OriginCode = (typeof Origin)[keyof typeof Origin];

export class OriginTable {
  private readonly marks: Uint8Array;
  private readonly mask: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.marks = new Uint8Array(buffer);
    this.mask = buffer.byteLength - 1;
  }

  /** A table for a ring of `ringCapacity` bytes (a power of two). */
  static create(ringCapacity: number): OriginTable {
    return new OriginTable(new SharedArrayBuffer(Math.max(1024, ringCapacity / 4)));
  }

  /** The stream index the ring's writer gives its next record (read by the writer's own thread). */
  static nextIndexOf(ring: SharedArrayBuffer): number {
    return new Int32Array(ring)[Header.NEXT_RECORD_NUMBER];
  }

  mark(index: number, origin: OriginCode): void {
    this.marks[index & this.mask] = origin;
  }

  originOf(index: number): OriginCode {
    return this.marks[index & this.mask] as OriginCode;
  }

  /** How many of the first `count` records came from this host's own publishers. */
  localPrefix(recordNumbers: Int32Array, count: number): number {
    let k = 0;
    while (k < count && this.marks[recordNumbers[k] & this.mask] === Origin.LOCAL) k++;
    return k;
  }

  /** How many of the first `count` records came from a network source. */
  networkPrefix(recordNumbers: Int32Array, count: number): number {
    let k = 0;
    while (k < count && this.marks[recordNumbers[k] & this.mask] !== Origin.LOCAL) k++;
    return k;
  }
}
