/**
 * The sources ingest reads beside the bus queue, as one poll set: multicast
 * groups and the NATS bridge's channel. Ingest polls the queue's descriptor
 * with theirs, then takes from whichever is ready; each source keeps its own
 * order, and records from several are interleaved as they arrive.
 *
 * poll() returns a bit set: bit 0 the queue, bit k + 1 source k.
 */
import { pollReadable } from '../native';
import { ChannelSource } from './channel';
import { SourceCounters } from './counters';
import { MulticastSource } from './multicast-source';
import { Origin, OriginTable, type OriginCode } from './origins';
import type { ChannelSpec } from './channel';
import type { MulticastSourceSpec } from './multicast-source';

/** What ingest's task says about its sources (part of IngestTask). */
export interface IngestSourcesTask {
  ring: SharedArrayBuffer;
  messageSize: number;
  /** Multicast groups to join; counters lines 0 … n-1 of `sourceCounters`. */
  multicast?: MulticastSourceSpec[];
  /** The NATS bridge's hand-over channel; its counters line is the next one. */
  channel?: ChannelSpec;
  sourceCounters?: SharedArrayBuffer;
  /** Where each record came from (origins.ts), when there is a network source. */
  origins?: SharedArrayBuffer;
}

type Write = (bytes: Uint8Array, offsets: Int32Array, lengths: Int32Array, taken: number, origin: OriginCode) => number;

export class IngestSources {
  private readonly multicast: MulticastSource[];
  private readonly channel: ChannelSource | null;
  private readonly counters: SourceCounters | null;
  private readonly origins: OriginTable | null;
  private readonly fds: Int32Array;
  private readonly revents: Int32Array;
  /** Stream index of the next record ingest writes (it is the ring's only writer). */
  private nextIndex: number;

  constructor(task: IngestSourcesTask, batch: number) {
    const opened: MulticastSource[] = [];
    try {
      for (const spec of task.multicast ?? []) opened.push(new MulticastSource(spec, task.messageSize, batch));
      this.channel = task.channel ? new ChannelSource(task.channel, batch) : null;
    } catch (err) {
      for (const source of opened) source.close();
      throw err;
    }
    this.multicast = opened;
    this.counters = task.sourceCounters ? new SourceCounters(task.sourceCounters) : null;
    this.origins = task.origins ? new OriginTable(task.origins) : null;
    this.nextIndex = OriginTable.nextIndexOf(task.ring);
    this.fds = new Int32Array(1 + this.count);
    this.revents = new Int32Array(1 + this.count);
  }

  /** Sources besides the queue. */
  get count(): number {
    return this.multicast.length + (this.channel ? 1 : 0);
  }

  /** Waits until the queue (fd) or any source is readable; returns the ready bit set. */
  poll(queueFd: number, timeoutMs: number): number {
    this.fds[0] = queueFd;
    this.multicast.forEach((source, k) => (this.fds[k + 1] = source.fd));
    if (this.channel) this.fds[this.count] = this.channel.fd;
    const wait = this.channel?.pending ? 0 : timeoutMs;
    const n = pollReadable(this.fds, this.fds.length, wait, this.revents);
    let ready = 0;
    if (n > 0) for (let k = 0; k < this.fds.length; k++) if (this.revents[k] !== 0) ready |= 1 << k;
    if (this.channel?.pending) ready |= 1 << this.count;
    return ready;
  }

  /** Takes from every ready source (bits above 0) and writes it. */
  drain(ready: number, write: Write): void {
    this.multicast.forEach((source, k) => {
      if ((ready & (1 << (k + 1))) === 0) return;
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

  /** Marks the origin of the next `count` records before they are written. */
  mark(count: number, origin: OriginCode): void {
    if (!this.origins) return;
    for (let k = 0; k < count; k++) this.origins.mark((this.nextIndex + k) | 0, origin);
  }

  wrote(count: number): void {
    this.nextIndex = (this.nextIndex + count) | 0;
  }

  close(): void {
    for (const source of this.multicast) source.close();
    this.channel?.close();
  }
}
