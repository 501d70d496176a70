/**
 * End-to-end throughput of the msgmux daemon: publisher processes blocking
 * in mq_send on the daemon's queue, the daemon (ingest, ring, one sink
 * worker each), and 1, 4 and 16 sink processes receiving with recvmmsg and
 * checking every message's sequence number — at 64 B and 1 KiB, at the
 * default queue depth (10) and, where root can raise fs.mqueue.msg_max for
 * the moment the queue is created, at a deep queue. In the same run: the
 * daemon's RSS idle with 0 and with 16 sinks, and its CPU use while a hung
 * `block` sink holds the ring and the queue full.
 *
 *   node dist/bench/daemon-fanout.bench.js [--publishers 1|2] [--runs 5] [--quick | --scale 0.5]
 *
 * Each sink count gets fresh sink processes, a warm-up round and `--runs`
 * measured rounds of a fixed message count. A sink's rate is its count / (its
 * last receive - the first publish); "delivered" is all sinks' deliveries over
 * the same window from the first publish to the last sink's last receive.
 * Figures are medians over rounds. Results go to bench/results/daemon-fanout.json.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { queueBytes, readQueueLimits } from '../src/queue-limits';
import { measureGroup, measureHungSink, Publishers, type GroupResult, type HungSinkResult } from './lib/daemon-fanout-rounds';
import { BenchDaemon } from './lib/daemon';
import { ForeignLoad, type ForeignLoadReport } from './lib/foreign-load';
import { withMsgMaxAtLeast } from '../src/bench/msg-max';
import { peakResidentKiB, residentKiB } from './lib/proc-stats';
import { machine, markdownTable, rate, sizeLabel, writeResults } from './lib/report';
import { optionOf } from './lib/options';

const SIZES = [64, 1024];
const SINK_COUNTS = [1, 4, 16];
/** RSS is taken idle with no sinks and with this many. */
const MOST_SINKS = Math.max(...SINK_COUNTS);
const DEFAULT_DEPTH = 10;
const DEEP_DEPTH = 1000;
/** --max-message per payload size: the queue's message size, with room to spare. */
const MAX_MESSAGE: Record<number, number> = { 64: 128, 1024: 1100 };
/**
 * A deep queue may use this share of RLIMIT_MSGQUEUE, which is summed over
 * all of the user's queues: the rest is left to whatever else runs as this user.
 */
const DEEP_QUEUE_RLIMIT_SHARE = 0.75;
/** Messages per measured round, by sink count: each round lasts roughly 1-3 s on 2 cores. */
const COUNTS: Record<number, number> = { 1: 300_000, 4: 100_000, 16: 30_000 };
const WARMUP_SHARE = 0.25;
const SETTLE_MS = 1000;
const HUNG_SINK_SAMPLE_MS = 3000;

interface Plan {
  publishers: number;
  runs: number;
  scale: number;
}

interface SessionResult {
  requestedDepth: number;
  /** The depth the daemon's queue really has (stats). */
  depth: number;
  size: number;
  maxMessage: number;
  msgMaxRaised: boolean;
  rssKiB: { idleNoSinks: number; idle16Sinks: number; after16SinkRun: number; peak: number } | null;
  groups: GroupResult[];
  hungSink: HungSinkResult | null;
  daemonExit: number | string | null;
  /** CPU other processes on the machine used meanwhile: how much to trust this session's figures. */
  foreignLoad: ForeignLoadReport | null;
  skipped?: string;
  error?: string;
}

/** The deepest queue (at most DEEP_DEPTH, in hundreds) of `maxMessage` messages within our share of RLIMIT_MSGQUEUE. */
function deepDepthFor(maxMessage: number): number {
  const rlimit = readQueueLimits().rlimitBytes;
  if (rlimit === null) return DEEP_DEPTH;
  let depth = DEEP_DEPTH;
  while (depth > 100 && queueBytes(depth, maxMessage) > rlimit * DEEP_QUEUE_RLIMIT_SHARE) depth -= 100;
  return depth;
}

async function runSession(requestedDepth: number, size: number, plan: Plan): Promise<SessionResult> {
  const maxMessage = MAX_MESSAGE[size];
  const result: SessionResult = {
    requestedDepth, depth: 0, size, maxMessage, msgMaxRaised: false, rssKiB: null, groups: [], hungSink: null, daemonExit: null, foreignLoad: null,
  };
  const foreignLoad = ForeignLoad.start();
  const label = `depth ${requestedDepth}, ${sizeLabel(size)}`;
  const started = await withMsgMaxAtLeast(requestedDepth, () => BenchDaemon.start({ queueDepth: requestedDepth, maxMessage }));
  const daemon = started.value;
  result.msgMaxRaised = started.raised;
  let publishers: Publishers | null = null;
  try {
    result.depth = (await daemon.stats()).queue.depth;
    if (requestedDepth > DEFAULT_DEPTH && result.depth <= DEFAULT_DEPTH) {
      result.skipped = `the queue could not be made deeper than ${result.depth} (fs.mqueue.msg_max=${started.original}; raising it needs root)`;
      return result;
    }
    publishers = await Publishers.start(daemon, size, plan.publishers);
    await sleep(SETTLE_MS);
    const rss = { idleNoSinks: residentKiB(daemon.pid), idle16Sinks: NaN, after16SinkRun: NaN, peak: NaN };
    for (const sinkCount of SINK_COUNTS) {
      const count = Math.max(1000, Math.round(COUNTS[sinkCount] * plan.scale));
      const whenRegistered = async (): Promise<void> => {
        if (sinkCount !== MOST_SINKS) return;
        await sleep(SETTLE_MS);
        rss.idle16Sinks = residentKiB(daemon.pid);
      };
      const group = await measureGroup(
        daemon, publishers,
        { size, sinkCount, count, warmup: Math.round(count * WARMUP_SHARE), runs: plan.runs },
        whenRegistered,
      );
      if (sinkCount === MOST_SINKS) rss.after16SinkRun = residentKiB(daemon.pid);
      result.groups.push(group);
      console.log(
        `  ${label}, ${String(sinkCount).padStart(2)} sink(s): ${rate(group.perSinkMean)} per sink, ` +
          `${rate(group.aggregate)} delivered (±${((group.spread * 100) / 2).toFixed(0)}%)${problems(group) ? `, ${problems(group)}` : ''}`,
      );
    }
    if (requestedDepth === DEFAULT_DEPTH && size === 1024) {
      result.hungSink = await measureHungSink(daemon, publishers, HUNG_SINK_SAMPLE_MS);
      console.log(`  ${label}, hung sink: ${hungSinkLine(result.hungSink)}`);
    }
    rss.peak = peakResidentKiB(daemon.pid);
    result.rssKiB = rss;
    return result;
  } finally {
    await publishers?.stop();
    result.daemonExit = await daemon.stop();
    if (result.daemonExit !== 0) console.error(`  ${label}: the daemon exited with ${result.daemonExit} on SIGTERM`);
    result.foreignLoad = foreignLoad.stop();
    console.log(`  ${label}: other processes used ${percent(result.foreignLoad.shareOfMachine)} of the machine meanwhile`);
  }
}

/** Anything that says a message was lost, reordered or miscounted; '' when all is well. */
function problems(group: GroupResult): string {
  const miscounted = group.daemonDelivered.filter((delivered) => delivered !== group.expectedPerSink).length;
  const found = [
    group.daemonDelivered.length !== group.sinks ? `the daemon's stats list ${group.daemonDelivered.length} of ${group.sinks} sinks` : '',
    group.missing > 0 ? `${group.missing} missing at the sinks` : '',
    group.daemonDropped > 0 ? `${group.daemonDropped} dropped by the daemon` : '',
    miscounted > 0 ? `${miscounted} sinks with a delivered count other than ${group.expectedPerSink}` : '',
    group.outOfOrder > 0 ? `${group.outOfOrder} out of order` : '',
    group.wrongLength > 0 ? `${group.wrongLength} of the wrong size` : '',
  ];
  return found.filter(Boolean).join(', ');
}

const percent = (share: number): string => `${(share * 100).toFixed(share < 0.1 ? 2 : 1)}%`;

function hungSinkLine(h: HungSinkResult): string {
  const busiest = h.cpu.busyThreads.slice(0, 3).map((t) => `${t.onCpuMs.toFixed(1)} ms`).join(', ');
  return (
    `${percent(h.cpu.shareOfOneCore)} of one core over ${h.cpu.seconds.toFixed(1)} s from utime+stime ` +
    `(${h.cpu.ticks} ticks; ${percent(h.cpu.shareOfOneCoreFromSchedstat)} from schedstat) ` +
    `(queue ${h.queueWaiting}/${h.queueDepth}, sink lag ${percent(h.sinkLag / h.ringCapacity)} of the ring, ingest ${h.ingest}` +
    `${busiest ? `; busiest threads: ${busiest}` : ''})`
  );
}

function throughputTable(sessions: SessionResult[]): string {
  const rows: string[][] = [];
  for (const s of sessions) {
    if (s.skipped || s.error) {
      rows.push([String(s.requestedDepth), sizeLabel(s.size), '-', s.skipped ? 'skipped' : 'failed', '-', '-', '-', '-']);
      continue;
    }
    for (const g of s.groups) {
      const spread = `±${((g.spread * 100) / 2).toFixed(0)}%`;
      rows.push([String(s.depth), sizeLabel(s.size), String(g.sinks), rate(g.perSinkMean), rate(g.perSinkSlowest), rate(g.aggregate), spread, problems(g) || 'none']);
    }
  }
  return markdownTable(['queue depth', 'size', 'sinks', 'per sink', 'slowest sink', 'delivered, all sinks', 'spread', 'lost / out of order'], rows);
}

function memoryTable(sessions: SessionResult[]): string {
  const mib = (kib: number): string => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(0)} MiB` : '-');
  const rows = sessions
    .filter((s) => s.rssKiB)
    .map((s) => [String(s.depth), sizeLabel(s.size), mib(s.rssKiB!.idleNoSinks), mib(s.rssKiB!.idle16Sinks), mib(s.rssKiB!.after16SinkRun), mib(s.rssKiB!.peak)]);
  return markdownTable(['queue depth', 'size', 'RSS idle, 0 sinks', 'idle, 16 sinks', 'after the 16-sink run', 'peak (VmHWM)'], rows);
}

function parsePlan(argv: string[]): Plan {
  const option = (name: string): string | undefined => optionOf(argv, name);
  const plan = {
    publishers: Number(option('--publishers') ?? 1),
    runs: Number(option('--runs') ?? 5),
    scale: argv.includes('--quick') ? 0.1 : Number(option('--scale') ?? 1),
  };
  if (![1, 2].includes(plan.publishers)) throw new Error('--publishers must be 1 or 2');
  if (!Number.isInteger(plan.runs) || plan.runs < 1) throw new Error('--runs needs a positive integer');
  if (!(plan.scale > 0)) throw new Error('--scale needs a positive number');
  return plan;
}

async function main(): Promise<void> {
  const plan = parsePlan(process.argv.slice(2));
  const host = machine();
  const limits = readQueueLimits();
  const maxDgramQlen = Number(fs.readFileSync('/proc/sys/net/unix/max_dgram_qlen', 'utf8'));
  console.log(
    `daemon fanout: node ${host.node}, ${host.cpus} CPUs (${host.cpuModel}), ${plan.publishers} publisher process(es), ` +
      `${plan.runs} runs + 1 warm-up per row; fs.mqueue.msg_max=${limits.msgMax}, net.unix.max_dgram_qlen=${maxDgramQlen}`,
  );
  const sessions: SessionResult[] = [];
  const foreignLoad = ForeignLoad.start();
  for (const deep of [false, true]) {
    for (const size of SIZES) {
      const depth = deep ? deepDepthFor(MAX_MESSAGE[size]) : DEFAULT_DEPTH;
      try {
        sessions.push(await runSession(depth, size, plan));
      } catch (err) {
        console.error(`  depth ${depth}, ${sizeLabel(size)} failed: ${(err as Error).message}`);
        sessions.push({
          requestedDepth: depth, depth: 0, size, maxMessage: MAX_MESSAGE[size], msgMaxRaised: false,
          rssKiB: null, groups: [], hungSink: null, daemonExit: null, foreignLoad: null, error: (err as Error).message,
        });
      }
      const last = sessions[sessions.length - 1];
      if (last.skipped) console.log(`  depth ${depth}, ${sizeLabel(size)}: skipped, ${last.skipped}`);
    }
  }
  const otherWork = foreignLoad.stop();
  console.log(`\nmessages/s, median of ${plan.runs} runs (spread: ± half the min-max range of the runs' delivered figure)\n`);
  console.log(throughputTable(sessions));
  console.log(`\n${memoryTable(sessions)}`);
  const hung = sessions.find((s) => s.hungSink)?.hungSink;
  if (hung) console.log(`\ndaemon CPU, idle with a hung block sink (ring and queue full): ${hungSinkLine(hung)}`);
  console.log(`\nother processes used ${percent(otherWork.shareOfMachine)} of the machine during the run (${otherWork.cpuSeconds.toFixed(1)} CPU-s in ${otherWork.wallSeconds.toFixed(0)} s)`);

  const report = {
    benchmark: 'daemon-fanout',
    date: new Date().toISOString(),
    ...host,
    otherWorkOnTheMachine: otherWork,
    settings: {
      publishers: plan.publishers, runs: plan.runs, warmupRounds: 1, warmupShare: WARMUP_SHARE, countScale: plan.scale,
      messagesPerRound: COUNTS, sizes: SIZES, sinkCounts: SINK_COUNTS, maxMessage: MAX_MESSAGE, sinkPolicy: 'block',
      queueDepths: { default: DEFAULT_DEPTH, deepRequested: sessions.filter((s) => s.requestedDepth > DEFAULT_DEPTH).map((s) => s.requestedDepth) },
      ringSize: 'daemon default (8 MiB)',
      kernel: { mqMsgMax: limits.msgMax, rlimitMsgqueueBytes: limits.rlimitBytes, unixMaxDgramQlen: maxDgramQlen },
    },
    metric:
      'per sink: its count / (its last receive - the first publish); delivered: all sinks\' count / (last sink\'s last receive - first publish); medians over measured rounds',
    sessions,
  };
  const complete = plan.scale === 1 && sessions.every((s) => !s.error);
  if (!complete) return console.log('\npartial or failed run: results not saved');
  const file = writeResults('daemon-fanout', report);
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
