/**
 * What the daemon knows about each ring record besides its bytes, kept
 * beside the ring so every record stays the bare message (sinks send it
 * zero copy, shm readers in other processes and network sinks see exactly
 * what was published). Indexed by the record's number
 * (RecordBatch.recordNumbers); ingest, the ring's one writer, fills a
 * record's entry before it writes the record:
 *
 *   origin  one byte: where it came from. A network sink (multicast, NATS)
 *           skips records from a network source, so a message crosses at
 *           most one network hop and two buses joined both ways never echo.
 *   stamp   float64, microseconds since the Unix epoch: when ingest took it.
 *           A sink that asks for the per-message header (src/wire/header.ts)
 *           sends it.
 *
 * Sizing: a record takes at least 8 bytes of the ring, so at most
 * capacity / 8 records are in the ring at once; ingest fills at most one
 * batch ahead of what it has written. capacity / 4 entries is twice that, so
 * an entry is never overwritten while its record can still be read. Memory:
 * 9 bytes per entry, 2.25 x the ring's capacity, touched only as records pass.
 */
import { Header } from '../ring/layout';

export const Origin = { LOCAL: 0, MULTICAST: 1, NATS: 2 } as const;
export type OriginCode = (typeof Origin)[keyof typeof Origin];

const STAMP_BYTES = 8;

export class RecordMeta {
  private readonly stamps: Float64Array;
  private readonly marks: Uint8Array;
  private readonly mask: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    const entries = buffer.byteLength / (STAMP_BYTES + 1);
    this.stamps = new Float64Array(buffer, 0, entries);
    this.marks = new Uint8Array(buffer, entries * STAMP_BYTES, entries);
    this.mask = entries - 1;
  }

  /** A table for a ring of `ringCapacity` bytes (a power of two). */
  static create(ringCapacity: number): RecordMeta {
    return new RecordMeta(new SharedArrayBuffer(Math.max(1024, ringCapacity / 4) * (STAMP_BYTES + 1)));
  }

  /** The record number the ring's writer gives its next record (read by the writer's own thread). */
  static nextIndexOf(ring: SharedArrayBuffer): number {
    return new Int32Array(ring)[Header.NEXT_RECORD_NUMBER];
  }

  mark(index: number, origin: OriginCode, stampMicros: number): void {
    this.marks[index & this.mask] = origin;
    this.stamps[index & this.mask] = stampMicros;
  }

  originOf(index: number): OriginCode {
    return this.marks[index & this.mask] as OriginCode;
  }

  /** When ingest took the record, in microseconds since the Unix epoch. */
  stampOf(index: number): number {
    return this.stamps[index & this.mask];
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
