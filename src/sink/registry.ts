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
import type { Piscina } from 'piscina';
import { ErrorCode, MsgmuxError } from '../errors';
import type { Logger } from '../log';
import type { Ring } from '../ring';
import { normalizeAddress } from '../address';
import type { SharedState } from '../daemon/shared-state';
import { SINK_KINDS } from './kinds';
import type { Sink } from './spec';
import { SinkState, StopRequest, type SinkCounts, type SinkEntry } from './state';
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
  /** Not delivered, for any reason: droppedByPolicy + undelivered. */
  dropped: number;
  /** A drop sink lapped by the writer, or without room when its turn came: the policy at work. */
  droppedByPolicy: number;
  /** The sink was absent, or could not take a message. */
  undelivered: number;
  /** Of `undelivered`: larger than the sink takes (EMSGSIZE). Never sent truncated. */
  tooLarge: number;
  /** Bytes published that the sink has not yet taken. */
  lag: number;
}

interface RunningSink {
  sink: Sink;
  index: number;
  entry: SinkEntry;
  done: Promise<SinkOutcome>;
  /** Settles once the sink has joined (or failed to): a second add of the same sink waits on it too. */
  started: Promise<void>;
}

const SINK_WORKER = path.join(__dirname, '..', '..', 'workers', 'sink.js');
const JOIN_TIMEOUT_MS = 10_000;
const RESTART_AFTER_MS = 1_000;
const IDLE_THREAD_MS = 5_000;
/** How often a stopped sink's worker is woken again until it ends (see stop()). */
const REWAKE_MS = 5;

export class SinkRegistry {
  private readonly sinks = new Map<string, RunningSink>();
  private readonly freeIndexes: number[];
  /** Made with the first sink: an idle daemon without sinks does not even load piscina (~1 MB RSS). */
  private pool: Piscina | null = null;
  private closing = false;
  /** Whether a configured sink that ended should be started again; the daemon answers from its running config. */
  isConfigured: (sink: Sink) => boolean = () => true;
  /** Counts of sinks that have ended, so totals cover every sink the daemon ever ran. */
  private readonly endedCounts: SinkCounts = { delivered: 0, droppedByPolicy: 0, undelivered: 0, tooLarge: 0 };
  private readonly tooLargeLogged = new Map<string, number>();
  /** Called with a sink's path whenever it ends, for any reason (the daemon keeps per-uid counts). */
  onEnded: (path: string) => void = () => undefined;

  constructor(
    private readonly ring: Ring,
    private readonly shared: SharedState,
    private readonly queueShape: QueueShape,
    private readonly maxSinks: number,
    private readonly log: Logger,
    private readonly recordMeta: SharedArrayBuffer,
  ) {
    this.freeIndexes = Array.from({ length: maxSinks }, (_, k) => maxSinks - 1 - k);
  }

  private sinkPool(): Piscina {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see `pool`
    const { Piscina: Pool } = require('piscina') as typeof import('piscina');
    return (this.pool ??= new Pool({
      filename: SINK_WORKER,
      // No warm threads: each costs RSS while idle; a new sink waits once for its thread to boot.
      minThreads: 0,
      maxThreads: this.maxSinks,
      // A thread whose sink ended is reused by the next; one idle this long exits, so a burst of sinks leaves nothing behind.
      idleTimeout: IDLE_THREAD_MS,
      resourceLimits: THREAD_LIMITS,
      concurrentTasksPerWorker: 1,
    }));
  }

  get size(): number {
    return this.sinks.size;
  }

  has(address: string): boolean {
    return this.sinks.has(normalizeAddress(address));
  }

  kindOf(address: string): Sink['kind'] | undefined {
    return this.sinks.get(normalizeAddress(address))?.sink.kind;
  }

  /**
   * Starts draining to `sink`; resolves once it has joined. Adding a sink
   * that exists resolves (or fails) with its first start, so a second
   * request never hears "ok" for a sink that did not join.
   */
  add(sink: Sink): Promise<void> {
    const key = normalizeAddress(sink.path);
    const existing = this.sinks.get(key);
    if (existing) return existing.started;
    const index = this.freeIndexes.pop();
    if (index === undefined) {
      const message = `already serving ${this.maxSinks} sinks, the most it may (maxSinks); ${key} was refused: raise it with --max-sinks`;
      return Promise.reject(new MsgmuxError(ErrorCode.SINK_LIMIT, message));
    }
    const entry = this.shared.sink(index);
    entry.reset();
    entry.state = SinkState.STARTING;
    const task: SinkTask = { ring: this.ring.buffer, shared: this.shared.buffer, index, sink: { ...sink, path: key }, queueShape: this.queueShape, recordMeta: this.recordMeta };
    const done = (this.sinkPool().run(task) as Promise<SinkOutcome>).catch(
      (err: Error): SinkOutcome => ({ reason: 'failed', error: { code: ErrorCode.SINK_CRASHED, message: err.message } }),
    );
    const running: RunningSink = { sink: { ...sink, path: key }, index, entry, done, started: this.joinOf({ ...sink, path: key }, entry, done) };
    this.sinks.set(key, running);
    void done.then((outcome) => this.ended(running, outcome));
    return running.started;
  }

  private async joinOf(sink: Sink, entry: SinkEntry, done: Promise<SinkOutcome>): Promise<void> {
    const key = sink.path;
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
    this.stop(running, StopRequest.NOW);
    await running.done;
  }

  /**
   * Asks a sink's worker to stop, and wakes it if it waits on the ring for
   * records (it sleeps on the ring's word, not on the stop word). A wake can
   * slip in just before that sleep, so it is repeated until the worker ends.
   */
  private stop(running: RunningSink, how: number): void {
    running.entry.requestStop(how);
    this.ring.wakeReaders();
    const again = setInterval(() => this.ring.wakeReaders(), REWAKE_MS);
    void running.done.finally(() => clearInterval(again));
  }

  /** Asks every sink to deliver what the ring holds and stop; after `deadline` (ms since epoch) stops them at once. */
  async drainAll(deadline: number): Promise<void> {
    this.closing = true;
    const all = [...this.sinks.values()];
    for (const running of all) this.stop(running, StopRequest.DRAIN);
    const finished = Promise.all(all.map((running) => running.done));
    const late = setTimeout(() => all.forEach((running) => this.stop(running, StopRequest.NOW)), Math.max(0, deadline - Date.now()));
    await finished;
    clearTimeout(late);
    await this.pool?.destroy();
  }

  stats(): SinkStats[] {
    const lags = new Map(this.ring.readers().map((reader) => [reader.slot, reader] as const));
    return [...this.sinks.values()].map(({ sink, entry }) => {
      const reader = entry.state === SinkState.JOINED ? lags.get(entry.slot) : undefined;
      const counts = entry.counts();
      // A running drop sink's laps are the reader's; the worker adds them to its entry when it ends.
      const droppedByPolicy = counts.droppedByPolicy + (reader?.lost ?? 0);
      return {
        path: sink.path,
        kind: sink.kind,
        policy: sink.policy,
        framing: sink.framing,
        header: sink.header,
        reachable: entry.reachable,
        delivered: counts.delivered,
        dropped: droppedByPolicy + counts.undelivered,
        droppedByPolicy,
        undelivered: counts.undelivered,
        tooLarge: counts.tooLarge,
        lag: reader?.lag ?? 0,
      };
    });
  }

  /** Every sink the daemon has run, running or ended. */
  totals(sinks: SinkStats[] = this.stats()): SinkCounts {
    const total = { ...this.endedCounts };
    for (const sink of sinks) {
      total.delivered += sink.delivered;
      total.droppedByPolicy += sink.droppedByPolicy;
      total.undelivered += sink.undelivered;
      total.tooLarge += sink.tooLarge;
    }
    return total;
  }

  /** Logs messages that turned out too large for a sink since the last call: each is counted, and said once. */
  logTooLarge(): void {
    for (const { sink, entry } of this.sinks.values()) this.reportTooLarge(sink, entry.counts().tooLarge);
  }

  private reportTooLarge(sink: Sink, tooLarge: number): void {
    const before = this.tooLargeLogged.get(sink.path) ?? 0;
    if (tooLarge === before) return;
    this.tooLargeLogged.set(sink.path, tooLarge);
    this.log.warn(
      { sink: sink.path, kind: sink.kind, tooLarge: tooLarge - before, total: tooLarge },
      `${tooLarge - before} messages were larger than sink ${sink.path} takes (EMSGSIZE) and were not delivered; ` +
        (sink.kind === 'mq'
          ? `its queue's message size is smaller than the bus queue's: recreate it larger`
          : `lower maxMessage (--max-message), or raise the kernel's socket buffers (sysctl net.core.wmem_max)`),
    );
  }

  private ended(running: RunningSink, outcome: SinkOutcome): void {
    const { sink, index } = running;
    if (this.sinks.get(sink.path) === running) this.sinks.delete(sink.path);
    this.shared.closeSinkDoorbell(index); // its worker has returned: nothing polls it any more
    this.freeIndexes.push(index);
    this.onEnded(sink.path);
    const counts = running.entry.counts();
    for (const key of Object.keys(counts) as (keyof SinkCounts)[]) this.endedCounts[key] += counts[key];
    this.reportTooLarge(sink, counts.tooLarge);
    this.tooLargeLogged.delete(sink.path);
    const fields = { sink: sink.path, kind: sink.kind, ...counts, reason: outcome.reason };
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
