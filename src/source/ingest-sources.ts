/**
 * The sources ingest reads beside the bus queue, as one poll set: the packed
 * queue (src/wire/packed.ts), multicast groups and the NATS bridge's channel. Ingest polls the queue's descriptor
 * with theirs, then takes from whichever is ready; each source keeps its own
 * order, and records from several are interleaved as they arrive.
 *
 * poll() returns a bit set: bit 0 the queue, bit k + 1 source k (the packed
 * queue first, when there is one; then the groups; then the channel), and
 * `wakeBit` when the wake descriptor (ingest's doorbell) was readable.
 *
 * Before a run of records is written, mark() fills their entries in the
 * record table (src/source/record-meta.ts): origin and ingest stamp.
 */
import { pollReadable } from '../native';
import { nowMicros } from '../wire';
import { ChannelSource } from './channel';
import { SourceCounters } from './counters';
import { MulticastSource } from './multicast-source';
import { PackedSource } from './packed-source';
import { Origin, RecordMeta, type OriginCode } from './record-meta';
import type { ChannelSpec } from './channel';
import type { MulticastSourceSpec } from './multicast-source';

/** What ingest's task says about its sources (part of IngestTask). */
export interface IngestSourcesTask {
  ring: SharedArrayBuffer;
  messageSize: number;
  /** The packed queue to ingest too (src/wire/packed.ts), or null. */
  packedQueue: string | null;
  /** Multicast groups to join; counters lines 0 … n-1 of `sourceCounters`. */
  multicast?: MulticastSourceSpec[];
  /** The NATS bridge's hand-over channel; its counters line is the next one. */
  channel?: ChannelSpec;
  sourceCounters?: SharedArrayBuffer;
  /** Each record's origin and ingest stamp (record-meta.ts). */
  recordMeta: SharedArrayBuffer;
}

type Write = (bytes: Uint8Array, offsets: Int32Array, lengths: Int32Array, taken: number, origin: OriginCode) => number;

export class IngestSources {
  private readonly packed: PackedSource | null;
  private readonly multicast: MulticastSource[];
  private readonly channel: ChannelSource | null;
  private readonly counters: SourceCounters | null;
  private readonly recordMeta: RecordMeta;
  /** Poll-set position of the first multicast group (after the queue and the packed queue). */
  private readonly firstGroup: number;
  private readonly fds: Int32Array;
  private readonly revents: Int32Array;
  /** Stream index of the next record ingest writes (it is the ring's only writer). */
  private nextIndex: number;

  constructor(task: IngestSourcesTask, batch: number) {
    const opened: MulticastSource[] = [];
    this.packed = task.packedQueue === null ? null : new PackedSource(task.packedQueue);
    try {
      for (const spec of task.multicast ?? []) opened.push(new MulticastSource(spec, task.messageSize, batch));
      this.channel = task.channel ? new ChannelSource(task.channel, batch) : null;
    } catch (err) {
      for (const source of opened) source.close();
      this.packed?.close();
      throw err;
    }
    this.multicast = opened;
    this.counters = task.sourceCounters ? new SourceCounters(task.sourceCounters) : null;
    this.recordMeta = new RecordMeta(task.recordMeta);
    this.firstGroup = this.packed ? 2 : 1;
    this.nextIndex = RecordMeta.nextIndexOf(task.ring);
    this.fds = new Int32Array(2 + this.count);
    this.revents = new Int32Array(2 + this.count);
  }

  /** Sources besides the queue. */
  get count(): number {
    return (this.packed ? 1 : 0) + this.multicast.length + (this.channel ? 1 : 0);
  }

  /** The bit poll() sets when the wake descriptor was readable. */
  get wakeBit(): number {
    return 1 << (this.count + 1);
  }

  /** Waits until the queue (fd), any source or `wakeFd` (-1: none) is readable; returns the ready bit set. */
  poll(queueFd: number, timeoutMs: number, wakeFd = -1): number {
    this.fds[0] = queueFd;
    if (this.packed) this.fds[1] = this.packed.fd;
    this.multicast.forEach((source, k) => (this.fds[this.firstGroup + k] = source.fd));
    if (this.channel) this.fds[this.count] = this.channel.fd;
    this.fds[this.count + 1] = wakeFd;
    const wait = this.channel?.pending ? 0 : timeoutMs;
    const n = pollReadable(this.fds, this.fds.length, wait, this.revents);
    let ready = 0;
    if (n > 0) for (let k = 0; k < this.fds.length; k++) if (this.revents[k] !== 0) ready |= 1 << k;
    if (this.channel?.pending) ready |= 1 << this.count;
    return ready;
  }

  /** Takes from every ready source (bits above 0) and writes it. */
  drain(ready: number, write: Write): void {
    if (this.packed && ready & 2) {
      const count = this.packed.take();
      if (count > 0) write(this.packed.bytes, this.packed.offsets, this.packed.lengths, count, Origin.LOCAL);
    }
    this.multicast.forEach((source, k) => {
      if ((ready & (1 << (this.firstGroup + k))) === 0) return;
      const [kept, tooLarge] = source.take();
      const written = kept > 0 ? write(source.bytes, source.offsets, source.lengths, kept, Origin.MULTICAST) : 0;
      this.counters?.add(k, written, tooLarge);
    });
    if (this.channel && ready & (1 << this.count)) {
      const batch = this.channel.take();
      const written = batch.count > 0 ? write(this.channel.bytes, batch.offsets, batch.lengths, batch.count, Origin.NATS) : 0;
      // Not all written means the daemon is abandoning what it holds: stop here either way.
      this.channel.done();
      this.counters?.add(this.multicast.length, written, 0);
    }
  }

  /** Fills the entries of the next `count` records before they are written: their origin, and now as their ingest stamp. */
  mark(count: number, origin: OriginCode): void {
    const stamp = nowMicros();
    for (let k = 0; k < count; k++) this.recordMeta.mark((this.nextIndex + k) | 0, origin, stamp);
  }

  /** Packed queue messages that were not frames, dropped. */
  get malformedPacked(): number {
    return this.packed?.malformed ?? 0;
  }

  wrote(count: number): void {
    this.nextIndex = (this.nextIndex + count) | 0;
  }

  close(): void {
    this.packed?.close();
    for (const source of this.multicast) source.close();
    this.channel?.close();
  }
}
