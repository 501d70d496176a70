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
import { align8 } from '../ring/layout';
import { SharedState } from '../daemon/shared-state';
import { OriginTable } from '../source/origins';
import { SINK_KINDS } from './kinds';
import { SinkState, StopRequest, type SinkEntry } from './state';
import { isGone, type SinkTarget } from './target';
import type { SinkOutcome, SinkTask } from './task';

const MAX_BATCH = 256;
const PEEK_WAIT_MS = 100;
const SEND_WAIT_MS = 100;
/** A drop sink waits this long for room, then drops the rest of the batch: it never holds stale data. */
const DROP_SINK_WAIT_MS = 10;
const MAX_BACKOFF_MS = 64;
const RECONNECT_EVERY_MS = 250;
/** An idle, reachable sink is checked this often: a closed one is removed within about this long. */
const PROBE_EVERY_MS = 1_000;

class SinkGone extends Error {}

class SinkDrainer {
  private readonly source: Uint8Array;
  private readonly scratch: Uint8Array;
  private readonly scratchOffsets = new Int32Array(MAX_BATCH);
  private lastConnectAttempt = 0;
  private lastProbe = Date.now();

  constructor(
    ring: Ring,
    private readonly reader: RingReader,
    private readonly target: SinkTarget,
    private readonly entry: SinkEntry,
    private readonly shared: SharedState,
    private readonly task: SinkTask,
  ) {
    this.source = new Uint8Array(ring.buffer);
    // Every record came off the queue, so none is larger than the queue's message size.
    const slot = align8(task.queueShape.messageSize);
    this.scratch = reader.policy === 'drop' ? new Uint8Array(MAX_BATCH * slot) : new Uint8Array(0);
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
      const batch = this.reader.peekSync(MAX_BATCH, PEEK_WAIT_MS);
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
        this.deliver(this.source, batch.offsets, batch.lengths, batch.count, batch.recordNumbers);
        this.reader.release();
      }
    }
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

  /** A lossy sink copies the batch out, releases it, and sends only what was intact. */
  private deliverCopy(batch: RecordBatch): void {
    let at = 0;
    for (let k = 0; k < batch.count; k++) {
      this.scratch.set(this.source.subarray(batch.offsets[k], batch.offsets[k] + batch.lengths[k]), at);
      this.scratchOffsets[k] = at;
      at += align8(batch.lengths[k]);
    }
    const count = batch.count;
    const lengths = batch.lengths.slice(0, count);
    const recordNumbers = batch.recordNumbers.slice(0, count);
    const intactFrom = this.reader.release();
    this.deliver(
      this.scratch, this.scratchOffsets.subarray(intactFrom), lengths.subarray(intactFrom), count - intactFrom, recordNumbers.subarray(intactFrom),
    );
  }

  /**
   * Sends every record, counting each as it goes. A gating sink waits for
   * room as long as it takes; a wake-up that sent nothing backs off (1 ms
   * doubling to 64 ms), so a hung sink costs no CPU. A drop sink waits
   * briefly, then drops the rest (by policy). A record the sink can never
   * take (EMSGSIZE) is counted undelivered and too large, never truncated.
   */
  private deliver(source: Uint8Array, offsets: Int32Array, lengths: Int32Array, count: number, recordNumbers: Int32Array): void {
    const patient = this.reader.policy !== 'drop';
    let done = 0;
    let backoff = 0;
    while (done < count) {
      if (this.entry.stop === StopRequest.NOW) return this.entry.count(0, 0, count - done);
      if (this.reader.evicted) throw new MsgmuxError(ErrorCode.READER_EVICTED, 'evicted while waiting for the sink');
      try {
        const n = this.target.send(
          source, offsets.subarray(done), lengths.subarray(done), count - done, patient ? SEND_WAIT_MS : DROP_SINK_WAIT_MS, recordNumbers.subarray(done),
        );
        if (n > 0) {
          done += n;
          this.entry.count(n);
          backoff = 0;
          continue;
        }
        if (!patient) return this.entry.count(0, count - done);
      } catch (err) {
        if (hasCode(err, 'EMSGSIZE')) {
          done++;
          this.entry.count(0, 0, 1, 1);
          continue;
        }
        if (!isGone(err)) throw err;
        this.entry.setReachable(false);
        if (!SINK_KINDS[this.task.sink.kind].configured) throw new SinkGone();
        if (!this.holdUntilBack()) return this.entry.count(0, 0, count - done);
        continue;
      }
      backoff = Math.min(MAX_BACKOFF_MS, Math.max(1, backoff * 2));
      this.entry.napUnlessStopped(backoff);
    }
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
  const origins = task.origins ? new OriginTable(task.origins) : null;
  const target = SINK_KINDS[sink.kind].createTarget(sink.path, task.queueShape, sink, origins);
  let reader: RingReader | null = null;
  try {
    reader = ring.reader({ start: 'latest', policy: sink.policy, evictAfterMs: sink.evictAfterMs, maxBatch: MAX_BATCH });
    entry.slot = reader.slot;
    const drain = new SinkDrainer(ring, reader, target, entry, shared, task);
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
    target.close();
    entry.state = SinkState.DONE;
  }
}
