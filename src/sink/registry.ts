/**
 * The daemon's sinks: which exist, the worker draining each, and what
 * happens when one ends.
 *
 * Each sink is one long task on a piscina pool whose maxThreads is the
 * admission limit: a sink beyond it is refused, never queued. A sink counts
 * as added only once its worker has joined the ring, so the caller's reply
 * means "you get everything published from now on". Configured sinks
 * (kinds.ts: static, mq) that end for any reason but a stop are started again.
 */
import path from 'node:path';
import { Piscina } from 'piscina';
import { ErrorCode, MsgmuxError } from '../errors';
import type { Logger } from '../log';
import type { Ring } from '../ring';
import { normalizeAddress } from '../address';
import type { SharedState } from '../daemon/shared-state';
import { SINK_KINDS } from './kinds';
import type { Sink } from './spec';
import { SinkState, StopRequest, type SinkEntry } from './state';
import type { QueueShape } from './target';
import type { SinkOutcome, SinkTask } from './task';
import { THREAD_LIMITS } from '../thread-limits';

export interface SinkStats {
  path: string;
  kind: Sink['kind'];
  policy: Sink['policy'];
  framing: Sink['framing'];
  header: boolean;
  reachable: boolean;
  delivered: number;
  /** Not delivered: lapped (drop), sink absent, or a message the sink could not take. */
  dropped: number;
  /** Bytes published that the sink has not yet taken. */
  lag: number;
}

interface RunningSink {
  sink: Sink;
  index: number;
  entry: SinkEntry;
  done: Promise<SinkOutcome>;
}

const SINK_WORKER = path.join(__dirname, '..', '..', 'workers', 'sink.js');
const JOIN_TIMEOUT_MS = 10_000;
const RESTART_AFTER_MS = 1_000;

export class SinkRegistry {
  private readonly sinks = new Map<string, RunningSink>();
  private readonly freeIndexes: number[];
  private readonly pool: Piscina;
  private closing = false;
  /** Whether a configured sink that ended should be started again; the daemon answers from its running config. */
  isConfigured: (sink: Sink) => boolean = () => true;

  constructor(
    private readonly ring: Ring,
    private readonly shared: SharedState,
    private readonly queueShape: QueueShape,
    private readonly maxSinks: number,
    private readonly log: Logger,
  ) {
    this.freeIndexes = Array.from({ length: maxSinks }, (_, k) => maxSinks - 1 - k);
    this.pool = new Piscina({
      filename: SINK_WORKER,
      // No warm threads: each costs RSS while idle; a new sink waits once for its thread to boot.
      minThreads: 0,
      maxThreads: maxSinks,
      idleTimeout: 10_000,
      resourceLimits: THREAD_LIMITS,
      concurrentTasksPerWorker: 1,
    });
  }

  get size(): number {
    return this.sinks.size;
  }

  has(address: string): boolean {
    return this.sinks.has(normalizeAddress(address));
  }

  /** Starts draining to `sink`; resolves once it has joined. Adding a sink that exists is a no-op. */
  async add(sink: Sink): Promise<void> {
    const key = normalizeAddress(sink.path);
    if (this.sinks.has(key)) return;
    const index = this.freeIndexes.pop();
    if (index === undefined) {
      throw new MsgmuxError(ErrorCode.SINK_LIMIT, `already serving ${this.maxSinks} sinks (maxSinks); ${key} was refused`);
    }
    const entry = this.shared.sink(index);
    entry.reset();
    entry.state = SinkState.STARTING;
    const task: SinkTask = { ring: this.ring.buffer, shared: this.shared.buffer, index, sink: { ...sink, path: key }, queueShape: this.queueShape };
    const done = (this.pool.run(task) as Promise<SinkOutcome>).catch(
      (err: Error): SinkOutcome => ({ reason: 'failed', error: { code: ErrorCode.SINK_CRASHED, message: err.message } }),
    );
    const running: RunningSink = { sink: { ...sink, path: key }, index, entry, done };
    this.sinks.set(key, running);
    void done.then((outcome) => this.ended(running, outcome));

    const joined = entry.stateChangeFrom(SinkState.STARTING, JOIN_TIMEOUT_MS);
    const state = await Promise.race([joined, done.then(() => entry.state)]);
    if (state === SinkState.JOINED) {
      this.log.info({ sink: key, kind: sink.kind, policy: sink.policy }, 'sink added');
      return;
    }
    const outcome = await done;
    if (outcome.reason === 'gone') {
      throw new MsgmuxError(ErrorCode.UNREACHABLE, `nothing listens at ${key}`);
    }
    throw new MsgmuxError(outcome.error?.code ?? ErrorCode.SINK_FAILED, `sink ${key} did not start: ${outcome.error?.message ?? outcome.reason}`);
  }

  /** Stops a sink's worker at once; resolves when it has left the ring. */
  async remove(address: string): Promise<void> {
    const key = normalizeAddress(address);
    const running = this.sinks.get(key);
    if (!running) throw new MsgmuxError(ErrorCode.NOT_SUBSCRIBED, `${key} is not a sink`);
    running.entry.requestStop(StopRequest.NOW);
    await running.done;
  }

  /** Asks every sink to deliver what the ring holds and stop; after `deadline` (ms since epoch) stops them at once. */
  async drainAll(deadline: number): Promise<void> {
    this.closing = true;
    const all = [...this.sinks.values()];
    for (const running of all) running.entry.requestStop(StopRequest.DRAIN);
    const finished = Promise.all(all.map((running) => running.done));
    const late = setTimeout(() => all.forEach((running) => running.entry.requestStop(StopRequest.NOW)), Math.max(0, deadline - Date.now()));
    await finished;
    clearTimeout(late);
    await this.pool.destroy();
  }

  stats(): SinkStats[] {
    const lags = new Map(this.ring.readers().map((reader) => [reader.slot, reader] as const));
    return [...this.sinks.values()].map(({ sink, entry }) => {
      const reader = entry.state === SinkState.JOINED ? lags.get(entry.slot) : undefined;
      return {
        path: sink.path,
        kind: sink.kind,
        policy: sink.policy,
        framing: sink.framing,
        header: sink.header,
        reachable: entry.reachable,
        delivered: entry.delivered,
        dropped: entry.dropped + (reader?.lost ?? 0),
        lag: reader?.lag ?? 0,
      };
    });
  }

  private ended(running: RunningSink, outcome: SinkOutcome): void {
    const { sink, index } = running;
    if (this.sinks.get(sink.path) === running) this.sinks.delete(sink.path);
    this.freeIndexes.push(index);
    const fields = { sink: sink.path, kind: sink.kind, delivered: running.entry.delivered, reason: outcome.reason };
    if (outcome.reason === 'gone') this.log.info(fields, 'sink went away; removed');
    else if (outcome.reason === 'evicted') this.log.warn(fields, 'sink stalled past its budget; evicted');
    else if (outcome.reason === 'failed') this.log.error({ ...fields, error: outcome.error }, 'sink failed');
    else this.log.info(fields, 'sink stopped');

    if (SINK_KINDS[sink.kind].configured && outcome.reason !== 'stopped' && !this.closing) {
      setTimeout(() => {
        if (this.closing || !this.isConfigured(sink)) return;
        this.add(sink).catch((err: Error) => this.log.error({ sink: sink.path, err: err.message }, 'could not restart sink'));
      }, RESTART_AFTER_MS).unref();
    }
  }
}
