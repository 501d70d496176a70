/**
 * A sink worker's loop: drains the ring to one sink until told to stop.
 *
 * Runs as a piscina task that owns its thread for the sink's whole life.
 * Gating sinks (`block`, `evict`) send straight out of the ring (sendmmsg on
 * the ring's own regions) and release only after the kernel took the bytes,
 * so a slow sink holds the ring back — that is the backpressure. A `drop`
 * sink copies first and releases at once: it never gates, and a lap shows up
 * as loss. A configured sink that is absent keeps draining and counts what it
 * could not deliver, so it never stalls the bus; it reconnects when it can.
 */
// The daemon's ring may be in shared memory (config shm): its waits are then futex(2).
import '../shm/futex-waits';
import { ErrorCode, hasCode, MsgmuxError } from '../errors';
import { Ring, type RecordBatch, type RingReader } from '../ring';
import { SharedState } from '../daemon/shared-state';
import { RecordMeta } from '../source/record-meta';
import { SINK_KINDS } from './kinds';
import { SinkState, StopRequest, type SinkEntry } from './state';
import { isGone, type SinkTarget } from './target';
import type { SinkOutcome, SinkTask } from './task';
import { DatagramBuilder } from './datagram-builder';
import { SendWait, WaitEnd } from './send-wait';
import type { Sink } from './spec';

const MAX_BATCH = 256;
/** A coalesced sink takes more per peek: records are cheap to frame, and each datagram then carries more. */
const MAX_COALESCED_BATCH = 1024;
/** A drop sink waits this long for room, then drops the rest of the batch: it never holds stale data. */
const DROP_SINK_WAIT_MS = 10;
const MAX_BACKOFF_MS = 64;
/** An evict sink past its budget looks whether it was evicted at least this far apart. */
const MIN_EVICTION_CHECK_MS = 10;
const RECONNECT_EVERY_MS = 250;
/** An idle, reachable sink is checked this often: a closed one is removed within about this long. */
const PROBE_EVERY_MS = 1_000;

class SinkGone extends Error {}

const maxBatchFor = (sink: Sink): number => (sink.framing === 'coalesced' ? MAX_COALESCED_BATCH : MAX_BATCH);

class SinkDrainer {
  private readonly datagrams: DatagramBuilder;
  private lastConnectAttempt = 0;
  private lastProbe = Date.now();
  private readonly sendWait: SendWait;

  constructor(
    ring: Ring,
    private readonly reader: RingReader,
    private readonly target: SinkTarget,
    private readonly entry: SinkEntry,
    private readonly shared: SharedState,
    private readonly task: SinkTask,
    recordMeta: RecordMeta,
  ) {
    // Every message came off the queue, so none is larger than the queue's message size. A lossy
    // sink copies a whole batch out before releasing it; a gating one sends out of the ring.
    const { framing, header } = task.sink;
    const copyAll = reader.policy === 'drop';
    this.sendWait = new SendWait(entry.doorbellFd);
    this.datagrams = new DatagramBuilder(
      new Uint8Array(ring.buffer), recordMeta, { framing, header }, task.queueShape.messageSize, maxBatchFor(task.sink), copyAll,
    );
  }

  /** Ends a wait for records when a stop is asked for (the registry then wakes the ring's readers). */
  private readonly stopRequested = (): boolean => this.entry.stop !== StopRequest.RUN;

  /** The sink has ended: its batch memory goes back to the thread for the next sink (thread-scratch.ts). */
  close(): void {
    this.datagrams.release();
  }

  /** Connects, marking the sink reachable; an absent sink that is not configured (see kinds.ts) is gone. Returns whether it connected. */
  tryConnect(): boolean {
    this.lastConnectAttempt = Date.now();
    try {
      this.target.connect();
      this.entry.setReachable(true);
      return true;
    } catch (err) {
      if (!isGone(err)) throw err;
      this.entry.setReachable(false);
      if (!SINK_KINDS[this.task.sink.kind].configured) throw new SinkGone();
      return false;
    }
  }

  run(): SinkOutcome['reason'] {
    for (;;) {
      const stop = this.entry.stop;
      if (stop === StopRequest.NOW) return 'stopped';
      if (!this.entry.reachable && Date.now() - this.lastConnectAttempt >= RECONNECT_EVERY_MS) this.tryConnect();
      const batch = this.reader.peekSync(maxBatchFor(this.task.sink), this.idleWaitMs(), this.stopRequested);
      if (batch.count === 0) {
        if (stop === StopRequest.DRAIN) return 'stopped';
        this.probeWhenDue();
        continue;
      }
      // Found absent while idle (by a probe): hold the batch, as a failed send does, when no other sink has it.
      if (!this.entry.reachable && !this.holdUntilBack()) {
        const count = batch.count;
        this.reader.release();
        this.entry.count(0, 0, count);
      } else if (this.reader.policy === 'drop') {
        this.deliverCopy(batch);
      } else {
        this.deliverInPlace(batch);
      }
    }
  }

  /**
   * How long an idle sink waits for records before it looks after itself: a
   * stop wakes the wait, so only the next probe (reachable) or reconnect
   * (unreachable) sets it, and an idle sink wakes about once a second.
   */
  private idleWaitMs(): number {
    if (!this.entry.reachable) return RECONNECT_EVERY_MS;
    return Math.max(1, PROBE_EVERY_MS - (Date.now() - this.lastProbe));
  }

  /** While idle: is the sink still there? A gone dynamic sink ends; a configured one is marked unreachable and retried. */
  private probeWhenDue(): void {
    if (!this.entry.reachable || Date.now() - this.lastProbe < PROBE_EVERY_MS) return;
    this.lastProbe = Date.now();
    try {
      this.target.probe();
    } catch (err) {
      if (!isGone(err)) throw err;
      this.entry.setReachable(false);
      if (!SINK_KINDS[this.task.sink.kind].configured) throw new SinkGone();
    }
  }

  /** A gating sink sends while it holds the batch, round by round of datagrams, then releases it. */
  private deliverInPlace(batch: RecordBatch): void {
    const { datagrams } = this;
    datagrams.load(batch.offsets, batch.lengths, batch.recordNumbers, batch.count);
    for (let k = 0; k < batch.count; ) {
      if (this.entry.stop === StopRequest.NOW) {
        this.entry.count(0, 0, batch.count - k);
        break;
      }
      k += datagrams.build(k, batch.count);
      this.deliver(datagrams.source, datagrams.offsets, datagrams.lengths, datagrams.count, datagrams.messages, datagrams.firstRecords);
    }
    this.reader.release();
  }

  /**
   * A lossy sink copies the batch out (as datagrams), releases it, and sends
   * only datagrams whose messages were all intact; intact messages that shared
   * a datagram with overwritten ones are dropped by policy too (the overwritten
   * ones the reader counts as lost).
   */
  private deliverCopy(batch: RecordBatch): void {
    const { datagrams } = this;
    datagrams.load(batch.offsets, batch.lengths, batch.recordNumbers, batch.count);
    datagrams.build(0, batch.count);
    const intactFrom = this.reader.release();
    let first = 0;
    let skipped = 0;
    while (skipped < intactFrom) skipped += datagrams.messages[first++];
    if (skipped > intactFrom) this.entry.count(0, skipped - intactFrom);
    this.deliver(
      datagrams.source, datagrams.offsets.subarray(first), datagrams.lengths.subarray(first), datagrams.count - first,
      datagrams.messages.subarray(first), datagrams.firstRecords.subarray(first),
    );
  }

  /**
   * Sends every datagram, counting its messages (datagram d carries
   * messages[d]) as it goes. A gating sink waits for room as long as it
   * takes, in one poll that a stop also ends (SendWait), so a hung sink
   * costs no CPU and no wake-ups; an evict sink wakes when its budget may
   * have run out, to learn whether it was evicted. Only a wait that ended
   * writable yet sent nothing backs off (1 ms doubling to 64 ms): poll can
   * say writable while the peer is still full. A drop sink waits briefly,
   * then drops the rest (by policy). A datagram the sink can never take
   * (EMSGSIZE) is counted undelivered and too large, never truncated.
   */
  private deliver(
    source: Uint8Array, offsets: Int32Array, lengths: Int32Array, count: number, messages: Int32Array, recordNumbers: Int32Array,
  ): void {
    const patient = this.reader.policy !== 'drop';
    const messagesIn = (from: number, to: number): number => {
      let n = 0;
      for (let d = from; d < to; d++) n += messages[d];
      return n;
    };
    const { sendWait } = this;
    const since = Date.now();
    let done = 0;
    let backoff = 0;
    while (done < count) {
      if (this.entry.stop === StopRequest.NOW) return this.entry.count(0, 0, messagesIn(done, count));
      if (this.reader.evicted) throw new MsgmuxError(ErrorCode.READER_EVICTED, 'evicted while waiting for the sink');
      sendWait.prepare(patient ? this.patientWaitMs(since) : DROP_SINK_WAIT_MS);
      try {
        const n = this.target.send(source, offsets.subarray(done), lengths.subarray(done), count - done, sendWait, recordNumbers.subarray(done));
        if (n > 0) {
          this.entry.count(messagesIn(done, done + n));
          done += n;
          backoff = 0;
          continue;
        }
        if (!patient) return this.entry.count(0, messagesIn(done, count));
      } catch (err) {
        if (hasCode(err, 'EMSGSIZE')) {
          const lost = messages[done++];
          this.entry.count(0, 0, lost, lost);
          continue;
        }
        if (!isGone(err)) throw err;
        this.entry.setReachable(false);
        if (!SINK_KINDS[this.task.sink.kind].configured) throw new SinkGone();
        if (!this.holdUntilBack()) return this.entry.count(0, 0, messagesIn(done, count));
        continue;
      }
      // Rung (a stop) or timed out (an eviction check): the loop's checks decide. Writable yet full: back off.
      if (sendWait.ended !== WaitEnd.WRITABLE) continue;
      backoff = Math.min(MAX_BACKOFF_MS, Math.max(1, backoff * 2));
      this.entry.napUnlessStopped(backoff);
    }
  }

  /**
   * How long a gating sink waits for room at a time: a block sink until
   * there is room (-1); an evict sink until its budget, counted from `since`,
   * may have run out, then a quarter budget at a time.
   */
  private patientWaitMs(since: number): number {
    if (this.reader.policy !== 'evict') return -1;
    const budget = this.task.sink.evictAfterMs;
    const left = since + budget - Date.now();
    return left > 0 ? left : Math.max(MIN_EVICTION_CHECK_MS, budget >> 2);
  }

  /**
   * A static sink found absent while sending. If another sink is live, it
   * carries the stream and this batch is dropped here (false). If this was
   * the only receiver, the batch is held — ingest is idle meanwhile, as no
   * sink is live — until the sink is back (true) or another sink goes live.
   */
  private holdUntilBack(): boolean {
    while (this.entry.stop !== StopRequest.NOW) {
      if (this.shared.liveSinks > 0) return false;
      this.entry.napUnlessStopped(RECONNECT_EVERY_MS);
      if (this.tryConnect()) return true;
    }
    return false;
  }
}

/** The sink worker's task: runs until the sink is stopped, gone, evicted or failed. */
export function drainToSink(task: SinkTask): SinkOutcome {
  const ring = Ring.attach(task.ring);
  const shared = new SharedState(task.shared);
  const entry = shared.sink(task.index);
  const { sink } = task;
  const recordMeta = new RecordMeta(task.recordMeta);
  const target = SINK_KINDS[sink.kind].createTarget(sink.path, task.queueShape, sink, recordMeta);
  let reader: RingReader | null = null;
  let drain: SinkDrainer | null = null;
  try {
    reader = ring.reader({ start: 'latest', policy: sink.policy, evictAfterMs: sink.evictAfterMs, maxBatch: maxBatchFor(sink) });
    entry.slot = reader.slot;
    drain = new SinkDrainer(ring, reader, target, entry, shared, task, recordMeta);
    drain.tryConnect();
    entry.state = SinkState.JOINED;
    return { reason: drain.run() };
  } catch (err) {
    if (err instanceof SinkGone) return { reason: 'gone' };
    if (hasCode(err, ErrorCode.READER_EVICTED)) return { reason: 'evicted' };
    const { code = ErrorCode.SINK_FAILED, message = String(err) } = err as { code?: string; message?: string };
    return { reason: 'failed', error: { code, message } };
  } finally {
    entry.setReachable(false);
    if (reader) entry.count(0, reader.lost); // a drop sink's laps, kept past the reader for the totals
    reader?.close();
    drain?.close();
    target.close();
    entry.state = SinkState.DONE;
  }
}
