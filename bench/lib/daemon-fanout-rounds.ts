/**
 * The measurements of the daemon fanout benchmark against one running
 * daemon: a group of N sink processes fed by the publisher processes for a
 * warm-up round plus measured rounds of a fixed message count, and a hung
 * sink that fills the ring and the queue while the daemon's CPU is sampled.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DgramSocket } from 'msgmux/native';
import { Child } from '../../src/bench/child';
import { onCleanup } from '../../src/bench/cleanup';
import type { SinkStats } from '../../src/sink/registry';
import type { BenchDaemon } from './daemon';
import { cpuUseOver, type CpuUse } from './proc-stats';
import { median } from './report';
import type { PublishReport, SinkRoundReport } from '../processes/fanout-protocol';

const SINK_SCRIPT = path.join(__dirname, '..', 'processes', 'fanout-sink.js');
const PUBLISHER_SCRIPT = path.join(__dirname, '..', 'processes', 'fanout-publisher.js');
const READY_TIMEOUT_MS = 30_000;
const ROUND_TIMEOUT_MS = 180_000;
/** A sink that hears nothing this long reports a stall and exits. */
const SINK_STALL_MS = 20_000;
/** How long the daemon's per-sink counters may trail what the sinks already reported. */
const STATS_SETTLE_MS = 2_000;

export interface RoundResult {
  /** Messages per second each sink received: its count / (its last receive - the first publish). */
  perSink: number[];
  /** Every delivery to every sink / (the last sink's last receive - the first publish). */
  aggregate: number;
  /** Messages per second the publishers got into the queue. */
  published: number;
  seconds: number;
}

export interface GroupResult {
  sinks: number;
  messagesPerRound: number;
  rounds: RoundResult[];
  /** Medians over the measured rounds. */
  perSinkMean: number;
  perSinkSlowest: number;
  aggregate: number;
  /** (max - min) / median of the rounds' aggregates. */
  spread: number;
  /** Summed over sinks and rounds, warm-up included: from the sinks' own checks and the daemon's stats. */
  missing: number;
  outOfOrder: number;
  wrongLength: number;
  daemonDropped: number;
  /** Delivered per sink according to the daemon, against what was published while it was registered. */
  daemonDelivered: number[];
  expectedPerSink: number;
}

/** The benchmark's publisher processes, alive for one daemon. */
export class Publishers {
  private constructor(readonly children: Child[]) {}

  static async start(daemon: BenchDaemon, size: number, count: number): Promise<Publishers> {
    const children = Array.from(
      { length: count },
      (_, k) => new Child(`publisher ${k}`, PUBLISHER_SCRIPT, ['--queue', daemon.queue, '--size', String(size), '--index', String(k)]),
    );
    await Promise.all(children.map((child) => child.next('ready', READY_TIMEOUT_MS)));
    return new Publishers(children);
  }

  /** Publishes `total` messages split over the publishers; resolves with their reports. */
  publish(total: number): Promise<PublishReport[]> {
    const share = Math.ceil(total / this.children.length);
    return Promise.all(
      this.children.map((child, k) => {
        child.send({ cmd: 'publish', count: Math.min(share, total - k * share) });
        return child.next<PublishReport>('a publish report', ROUND_TIMEOUT_MS);
      }),
    );
  }

  /** The first publisher sends until one send waits `timeoutMs` in vain. */
  fill(timeoutMs: number, max: number): Promise<PublishReport> {
    this.children[0].send({ cmd: 'fill', timeoutMs, max });
    return this.children[0].next<PublishReport>('a fill report', ROUND_TIMEOUT_MS + timeoutMs);
  }

  async stop(): Promise<void> {
    await Promise.all(this.children.map((child) => child.endInput(5_000)));
  }
}

function roundResult(publishers: PublishReport[], sinks: SinkRoundReport[]): RoundResult {
  const startNs = Math.min(...publishers.map((p) => p.startedNs));
  const seconds = (ns: number): number => (ns - startNs) / 1e9;
  const received = sinks.reduce((sum, s) => sum + s.received, 0);
  const sent = publishers.reduce((sum, p) => sum + p.sent, 0);
  const window = seconds(Math.max(...sinks.map((s) => s.lastNs)));
  return {
    perSink: sinks.map((s) => s.received / seconds(s.lastNs)),
    aggregate: received / window,
    published: sent / seconds(Math.max(...publishers.map((p) => p.endedNs))),
    seconds: window,
  };
}

/**
 * The daemon's stats for `addresses`. A sink worker counts a batch after its
 * last send returns, so a sink can report a round before the daemon's
 * counter moves: ask again (briefly) until every count reaches `expected`.
 */
async function settledSinkStats(daemon: BenchDaemon, addresses: string[], expected: number): Promise<SinkStats[]> {
  const deadline = Date.now() + STATS_SETTLE_MS;
  for (;;) {
    const ours = (await daemon.stats()).sinks.filter((s) => addresses.includes(s.path));
    const settled = ours.length === addresses.length && ours.every((s) => s.delivered + s.dropped >= expected);
    if (settled || Date.now() >= deadline) return ours;
    await sleep(20);
  }
}

/**
 * Starts `sinkCount` sink processes, registers them (policy block), runs a
 * warm-up round of `warmup` messages and `runs` rounds of `count`, then
 * unregisters them. `whenRegistered` runs once all are registered, before any traffic.
 */
export async function measureGroup(
  daemon: BenchDaemon,
  publishers: Publishers,
  plan: { size: number; sinkCount: number; warmup: number; count: number; runs: number },
  whenRegistered: () => Promise<void> = async () => undefined,
): Promise<GroupResult> {
  const roundCounts = [plan.warmup, ...Array.from({ length: plan.runs }, () => plan.count)];
  const sinks = Array.from({ length: plan.sinkCount }, (_, k) => {
    const address = `${daemon.addressPrefix}/sink-${plan.sinkCount}-${k}`;
    const args = ['--bind', address, '--size', String(plan.size), '--rounds', roundCounts.join(','), '--stall-ms', String(SINK_STALL_MS)];
    return { address, child: new Child(`sink ${address}`, SINK_SCRIPT, args) };
  });
  const registered: string[] = [];
  try {
    await Promise.all(sinks.map((sink) => sink.child.next('ready', READY_TIMEOUT_MS)));
    for (const sink of sinks) {
      await daemon.subscribe(sink.address, 'block');
      registered.push(sink.address);
    }
    await whenRegistered();
    const rounds: RoundResult[] = [];
    const reports: SinkRoundReport[] = [];
    for (const [round, count] of roundCounts.entries()) {
      const [published, received] = await Promise.all([
        publishers.publish(count),
        Promise.all(sinks.map((sink) => sink.child.next<SinkRoundReport>(`round ${round} report`, ROUND_TIMEOUT_MS))),
      ]);
      reports.push(...received);
      const stalled = received.filter((r) => r.stalled).length;
      if (stalled > 0) throw new Error(`${stalled} of ${plan.sinkCount} sinks stalled in round ${round}: ${JSON.stringify(received.find((r) => r.stalled))}`);
      if (round > 0) rounds.push(roundResult(published, received));
    }
    const expectedPerSink = roundCounts.reduce((a, b) => a + b, 0);
    const ours = await settledSinkStats(daemon, registered, expectedPerSink);
    const aggregates = rounds.map((r) => r.aggregate);
    const sum = (pick: (r: SinkRoundReport) => number): number => reports.reduce((total, r) => total + pick(r), 0);
    return {
      sinks: plan.sinkCount,
      messagesPerRound: plan.count,
      rounds,
      perSinkMean: median(rounds.map((r) => r.perSink.reduce((a, b) => a + b, 0) / r.perSink.length)),
      perSinkSlowest: median(rounds.map((r) => Math.min(...r.perSink))),
      aggregate: median(aggregates),
      spread: (Math.max(...aggregates) - Math.min(...aggregates)) / median(aggregates),
      missing: sum((r) => r.missing),
      outOfOrder: sum((r) => r.outOfOrder),
      wrongLength: sum((r) => r.wrongLength),
      daemonDropped: ours.reduce((total, s) => total + s.dropped, 0),
      daemonDelivered: ours.map((s) => s.delivered),
      expectedPerSink,
    };
  } finally {
    for (const address of registered) await daemon.unsubscribe(address).catch(() => undefined);
    await Promise.all(sinks.map((sink) => sink.child.stop(5_000, 'SIGKILL').catch(() => undefined)));
  }
}

export interface HungSinkResult {
  /** Messages the publisher got in before a send waited `fillTimeoutMs` in vain. */
  publishedUntilFull: number;
  queueWaiting: number;
  queueDepth: number;
  /** Bytes of the ring the hung sink has not taken, against the ring's capacity. */
  sinkLag: number;
  ringCapacity: number;
  ingest: string;
  cpu: CpuUse;
}

/**
 * Registers a sink that never reads (a socket bound here, policy block),
 * publishes until the ring and the queue are full, lets the daemon settle,
 * and samples its CPU use over `sampleMs`.
 */
export async function measureHungSink(daemon: BenchDaemon, publishers: Publishers, sampleMs: number): Promise<HungSinkResult> {
  const FILL_TIMEOUT_MS = 1000;
  const address = `${daemon.addressPrefix}/hung-sink`;
  const socket = new DgramSocket({ nonBlocking: true });
  const close = onCleanup(() => socket.close());
  try {
    socket.bind(address);
    await daemon.subscribe(address, 'block');
    const fill = await publishers.fill(FILL_TIMEOUT_MS, 10_000_000);
    if (!fill.queueFull) throw new Error(`the bus never filled: ${fill.sent} messages went in`);
    await sleep(1000); // let the sink worker reach its longest backoff
    const stats = await daemon.stats();
    const hung = stats.sinks.find((s) => s.path === address);
    const cpu = await cpuUseOver(daemon.pid, sampleMs);
    return {
      publishedUntilFull: fill.sent,
      queueWaiting: stats.queue.waiting,
      queueDepth: stats.queue.depth,
      sinkLag: hung?.lag ?? NaN,
      ringCapacity: stats.ring.capacity,
      ingest: stats.ingest,
      cpu,
    };
  } finally {
    await daemon.unsubscribe(address).catch(() => undefined);
    close();
  }
}
