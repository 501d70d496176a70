/**
 * The msgmux daemon: queue → ingest → ring → one worker per sink.
 *
 *   const daemon = await Daemon.start(config, log);
 *   ...
 *   await daemon.stop();   // what was taken off the queue is delivered first
 *
 * The main thread only steers: it owns the registry, answers the control
 * socket and reads counters from shared memory. Messages never pass through it.
 */
import path from 'node:path';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { DaemonConfig } from '../config';
import { normalizeAddress } from '../address';
import { encodeReply, errorReply, parseControlRequest, type ControlReply, type ControlRequest } from '../control-protocol';
import { ErrorCode, MsgmuxError } from '../errors';
import type { Logger } from '../log';
import { DgramSocket } from '../native';
import { Ring } from '../ring';
import { isReachable } from '../sink/datagram-target';
import { SinkRegistry, type SinkStats } from '../sink/registry';
import type { SinkCounts } from '../sink/state';
import { openBusQueue, type BusQueue } from './bus-queue';
import { ControlReceiver, type ControlDatagram } from './control-receiver';
import { INGEST_READY, INGEST_STATE_NAMES, type IngestReport, type IngestTask } from './ingest';
import { EXTRA_SINK_LINES, NetworkLegs, type NatsStats, type SourceStats } from './network-legs';
import { SharedState } from './shared-state';
import { ShmReaders, type ShmStats } from './shm-readers';
import { ControlTally, type ControlCounts } from '../ops/control-tally';
import type { ReloadPlan } from '../ops/reload';
import { RequestGuard } from '../trust/guard';
import { THREAD_LIMITS } from '../thread-limits';
import { packingInfo, type PackingInfo } from '../wire/packed';

const WORKERS = path.join(__dirname, '..', '..', 'workers');
/** Too-large messages are logged at most this often (and only when a sink counted some). */
const LOSS_LOG_EVERY_MS = 1_000;

export interface DaemonStats {
  ingested: number;
  /**
   * `waiting for a sink` while no sink is reachable: messages stay in the queue.
   * `waiting for the slowest sink` while the ring is full: backpressure on publishers.
   */
  ingest: (typeof INGEST_STATE_NAMES)[number];
  queue: { name: string; depth: number; messageSize: number; waiting: number };
  ring: { capacity: number; written: number };
  /** Over every sink the daemon has run since it started, including those that have ended. */
  totals: SinkCounts;
  sinks: SinkStats[];
  /** Control requests by op and refusals by code. */
  control: ControlCounts;
  /** Where publishers may send packed messages (src/wire/packed.ts); null: this daemon does not unpack. */
  packing: PackingInfo | null;
  /** Multicast groups and the NATS subject ingested beside the queue; absent when there are none. */
  sources?: SourceStats[];
  nats?: NatsStats;
  /** The ring's shared-memory file and the processes attached to it; absent when the ring is private. */
  shm?: ShmStats;
}

export class Daemon {
  private stopping: Promise<IngestReport> | null = null;
  private readonly guard: RequestGuard;
  private readonly ingestExited: Promise<unknown>;
  private readonly ingestReport: Promise<IngestReport>;
  private readonly tally = new ControlTally();
  /** Resolves once ingest has opened the queue and joined every source; rejects if it fails first. */
  private readonly ingestReady: Promise<void>;
  /** Called once if a thread the daemon cannot run without dies; the bus is down, so exit and be restarted. */
  onFatal: (err: Error) => void = () => undefined;

  private constructor(
    private config: DaemonConfig,
    private readonly log: Logger,
    private readonly queue: BusQueue,
    private readonly ring: Ring,
    private readonly shared: SharedState,
    private readonly registry: SinkRegistry,
    ingest: Worker,
    private readonly control: ControlReceiver,
    private readonly replies: DgramSocket,
    private readonly legs: NetworkLegs,
    private readonly shm: ShmReaders | null,
  ) {
    this.guard = new RequestGuard(config);
    this.logTooLargeAfter(shared.tooLargeEvents);
    this.wakeIngestWhenSinksGo(shared.liveSinks);
    registry.onEnded = (sinkPath) => this.guard.ended(sinkPath);
    this.ingestExited = once(ingest, 'exit');
    let ready: () => void = () => undefined;
    this.ingestReady = new Promise((resolve, reject) => {
      ready = resolve;
      ingest.once('error', reject);
    });
    this.ingestReport = new Promise((resolve) => ingest.on('message', (m: IngestReport | typeof INGEST_READY) => (m === INGEST_READY ? ready() : resolve(m))));
    ingest.once('error', (err) => {
      log.fatal({ thread: 'ingest', err: err.message, stack: err.stack }, 'the ingest thread failed');
      this.onFatal(err);
    });
    control.onFailure = (err) => {
      log.fatal({ control: config.control, err: err.message, code: (err as { code?: string }).code, stack: err.stack }, 'the control socket failed');
      this.onFatal(err);
    };
    // A configured sink that ended is started again only while the running config still lists it.
    registry.isConfigured = (sink) =>
      this.config.sinks.some((s) => s.kind === sink.kind && s.path === sink.path && s.policy === sink.policy && s.evictAfterMs === sink.evictAfterMs);
    control.onRequest = (request) => void this.serve(request);
  }

  static async start(config: DaemonConfig, log: Logger): Promise<Daemon> {
    const queue = openBusQueue(config, log);
    const shared = SharedState.create(config.maxSinks + EXTRA_SINK_LINES);
    let shm: ShmReaders | null = null;
    let legs: NetworkLegs;
    let ring: Ring;
    try {
      shm = config.shm ? ShmReaders.create(config.shm, config.ringSize, config.maxSinks, shared, log) : null;
      ring = shm?.host.ring ?? Ring.create({ capacity: config.ringSize, maxReaders: config.maxSinks });
      legs = NetworkLegs.prepare(config, log, shared, ring, queue.messageSize);
    } catch (err) {
      shm?.close();
      shared.close();
      queue.close();
      throw err;
    }
    const shape = { depth: queue.depth, messageSize: queue.messageSize, mode: config.queueMode };
    const registry = new SinkRegistry(ring, shared, shape, config.maxSinks, log, legs.recordMeta.buffer);
    for (const sink of config.sinks) {
      await registry.add(sink).catch((err: Error) => log.warn({ sink: sink.path, err: err.message }, 'configured sink not started'));
    }

    let daemon: Daemon | null = null;
    await legs.startBridge((err) => daemon?.onFatal(err)).catch(async (err: Error) => {
      await registry.drainAll(Date.now());
      shm?.close();
      shared.close();
      queue.close();
      throw err;
    });
    let control: ControlReceiver;
    try {
      control = ControlReceiver.listen(config.control);
    } catch (err) {
      await Promise.all([registry.drainAll(Date.now()), legs.stop(Date.now())]);
      shm?.close();
      shared.close();
      queue.close();
      throw err;
    }
    const ingest = new Worker(path.join(WORKERS, 'ingest.js'), {
      resourceLimits: THREAD_LIMITS,
      workerData: {
        ring: ring.buffer, shared: shared.buffer, queue: config.queue, packedQueue: queue.packedName, messageSize: queue.messageSize, ...legs.ingestFields(),
      } satisfies IngestTask,
    });
    daemon = new Daemon(config, log, queue, ring, shared, registry, ingest, control, new DgramSocket({ nonBlocking: true }), legs, shm);
    const started = daemon;
    await started.ingestReady.catch(async (err: Error) => {
      await started.stop();
      throw err;
    });
    log.info(
      { queue: config.queue, control: config.control, ringSize: config.ringSize, sinks: registry.size, sources: config.multicast.sources, nats: config.nats?.url, shm: config.shm?.name },
      'msgmux started',
    );
    return daemon;
  }

  /** The configuration running now (a reload changes it). */
  get configuration(): DaemonConfig {
    return this.config;
  }

  /**
   * Applies a reload: the new configuration (its restart-only fields already
   * kept at their running values), configured sinks stopped and started.
   * Dynamic sinks and the messages in flight are untouched.
   */
  async reload(plan: ReloadPlan): Promise<void> {
    if (this.stopping) throw new MsgmuxError(ErrorCode.STOPPING, 'msgmux is stopping');
    this.config = plan.config;
    this.guard.configure(plan.config);
    for (const sink of plan.remove) {
      // A sink waiting to be restarted is not running: it is simply not restarted any more.
      if (this.registry.has(sink.path)) await this.registry.remove(sink.path);
    }
    for (const sink of plan.add) {
      await this.registry.add(sink).catch((err: Error) => this.log.warn({ sink: sink.path, err: err.message }, 'configured sink not started'));
    }
  }

  stats(): DaemonStats {
    const { name, depth, messageSize } = this.queue;
    const sinks = this.registry.stats();
    return {
      ingested: this.shared.ingested,
      ingest: INGEST_STATE_NAMES[this.shared.ingestState],
      queue: { name, depth, messageSize, waiting: this.queue.waiting() },
      ring: { capacity: this.ring.capacity, written: this.ring.written },
      totals: this.registry.totals(sinks),
      sinks,
      control: this.tally.snapshot(),
      packing: this.queue.packedName === null ? null : packingInfo(name),
      ...(this.legs.sources().length > 0 && { sources: this.legs.sources() }),
      ...(this.config.nats && { nats: this.legs.nats() }),
      ...(this.shm && { shm: this.shm.stats() }),
    };
  }

  /**
   * Stops taking messages, delivers what the ring holds to every live sink
   * (until the drain deadline), and releases everything. The queue stays:
   * what publishers left in it waits for the next start.
   */
  stop(): Promise<IngestReport> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<IngestReport> {
    const deadline = Date.now() + this.config.drainTimeoutMs;
    this.log.info({ drainTimeoutMs: this.config.drainTimeoutMs }, 'stopping: draining the ring to every live sink');
    this.control.close();
    this.shared.requestIngestStop();
    const giveUp = setTimeout(() => {
      this.shared.requestIngestStop(true);
      this.ring.signalWriter(); // ingest may be waiting for room, asleep on the ring's word
    }, Math.max(0, deadline - Date.now()));
    // A failed ingest never reports: what it counted in shared memory is all there is.
    const failed = this.ingestExited.then((): IngestReport => ({ ingested: this.shared.ingested, abandoned: 0, malformedPacked: 0 }));
    const ingested = await Promise.race([this.ingestReport, failed]);
    clearTimeout(giveUp);
    await Promise.all([this.registry.drainAll(deadline), this.legs.stop(deadline)]);
    this.registry.logTooLarge();
    await this.ingestExited;
    this.shm?.close(); // the ring's threads are gone: its file can go
    this.replies.close();
    this.queue.close();
    this.shared.close(); // every thread that polled a doorbell has ended
    const fields = { ingested: ingested.ingested, abandoned: ingested.abandoned, malformedPacked: ingested.malformedPacked, queueWaiting: this.queue.waitingAtClose };
    if (ingested.abandoned > 0) this.log.error(fields, 'stopped; the drain deadline passed before every accepted message was written');
    else this.log.info(fields, 'stopped');
    return ingested;
  }

  /**
   * Logs what sinks found too large once one counts some, then waits at
   * least LOSS_LOG_EVERY_MS before the next: no timer runs while none do.
   */
  private logTooLargeAfter(seen: number): void {
    void this.shared.tooLargeAfter(seen).then(() => {
      if (this.stopping) return; // shutdown logs the rest
      const now = this.shared.tooLargeEvents;
      this.registry.logTooLarge();
      setTimeout(() => this.logTooLargeAfter(now), LOSS_LOG_EVERY_MS).unref();
    });
  }

  /**
   * Ingest waits for input without a timeout, and the last sink may go
   * meanwhile (found absent by its own thread): then it is woken, so that it
   * waits for a sink instead, and says so.
   */
  private wakeIngestWhenSinksGo(seen: number): void {
    void this.shared.liveSinksAfter(seen).then(() => {
      if (this.stopping) return;
      const now = this.shared.liveSinks;
      if (now === 0) this.shared.wakeIngest();
      this.wakeIngestWhenSinksGo(now);
    });
  }

  private async serve(event: ControlDatagram): Promise<void> {
    // Not `pid`: that is the daemon's own, in every log line.
    const who = { from: event.from, senderUid: event.cred?.uid, senderPid: event.cred?.pid };
    let reply: ControlReply;
    let op: string | undefined;
    try {
      const request = parseControlRequest(event.data);
      op = request.op;
      reply = await this.handle(request, event);
      this.tally.request(op);
      // Per request at debug: a `stats --watch` asks every second.
      this.log.debug({ ...who, op, path: 'path' in request ? request.path : undefined }, 'control request');
    } catch (err) {
      reply = errorReply(err);
      const code = (err as { code?: string }).code ?? ErrorCode.INTERNAL;
      this.tally.request(op);
      this.tally.refusal(code);
      this.log.warn({ ...who, op, err: (err as Error).message, code }, 'control request refused');
    }
    if (event.from === null) return; // an unbound sender has no address to answer
    try {
      this.replies.send(encodeReply(reply), event.from);
    } catch (err) {
      this.log.debug({ ...who, err: (err as Error).message }, 'could not send the reply');
    }
  }

  /**
   * Removes those of `paths` that are dynamic sinks whose socket is gone. A
   * closed sink is otherwise noticed by its next send or idle probe (within
   * about a second): a uid at its sink limit that replaces its subscribers
   * must not be refused for the ones that just closed.
   */
  private async reapGone(paths: string[]): Promise<void> {
    const gone = paths.filter((path) => this.registry.kindOf(path) === 'dynamic' && !isReachable(path));
    await Promise.all(gone.map((path) => this.registry.remove(path)));
  }

  private async handle(request: ControlRequest, { cred, from }: ControlDatagram): Promise<ControlReply> {
    if (this.stopping) throw new MsgmuxError(ErrorCode.STOPPING, 'msgmux is stopping');
    switch (request.op) {
      case 'subscribe': {
        if (normalizeAddress(request.path) === normalizeAddress(this.config.control)) {
          // Every message would then reach the control socket and run as a request, with the daemon's rights.
          throw new MsgmuxError(ErrorCode.BAD_REQUEST, `${request.path} is this daemon's own control socket; it cannot be a sink`);
        }
        const existing = this.registry.has(request.path);
        if (!existing) await this.reapGone(this.guard.heldAtLimit(cred));
        this.guard.checkSubscribe(request.path, cred, from, existing);
        await this.registry.add({
          path: request.path,
          kind: 'dynamic',
          policy: request.policy ?? this.config.policy,
          evictAfterMs: request.evictAfterMs ?? this.config.evictAfterMs,
          framing: request.framing ?? 'plain',
          header: request.header ?? false,
        });
        if (this.registry.has(request.path)) this.guard.registered(request.path, cred); // not if it has ended meanwhile
        return { ok: true, op: 'subscribe', path: request.path, existing };
      }
      case 'unsubscribe': {
        this.guard.checkUnsubscribe(request.path, this.registry.kindOf(request.path), cred, from);
        await this.registry.remove(request.path);
        return { ok: true, op: 'unsubscribe', path: request.path };
      }
      case 'stats':
        return { ok: true, op: 'stats', ...this.stats() };
      case 'attach': {
        if (this.shm === null) throw new MsgmuxError(ErrorCode.NO_SHM, 'this daemon\'s ring is not in shared memory: start it with --shm NAME (config "shm") to attach');
        const grant = this.shm.attach(request, cred, this.config, this.guard);
        return { ok: true, op: 'attach', ...grant };
      }
    }
  }
}
