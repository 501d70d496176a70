/**
 * Threaded fanout benchmark: 1 writer thread to 1, 2 and 4 reader threads,
 * 64 B and 1 KiB records, through the ring (copying and zero-copy readers)
 * and through Node's BroadcastChannel, in the same run.
 *
 *   node dist/bench/ring-fanout.bench.js [--runs 5] [--quick | --scale 2]
 *        [--readers 2] [--size 64] [--transport ring-copy]   (one slice, e.g. to profile it)
 *
 * Each configuration keeps its threads for a warm-up round plus `--runs`
 * measured rounds of a fixed message count. A reader's rate is messages /
 * (its last message - the writer's first write); a round's figure is the mean
 * over its readers, and the table shows the median round. Results go to
 * bench/results/ring-fanout.json.
 */
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Ring } from '../src/ring';
import { Peer } from '../src/bench/inproc/peer';
import { machine, writeResults } from './lib/report';
import type { FanoutWorkerData, Transport } from '../src/bench/inproc/protocol';
import { optionOf } from './lib/options';

const READER_COUNTS = [1, 2, 4];
const SIZES = [64, 1024];
const TRANSPORTS: Transport[] = ['ring-single', 'ring-copy', 'ring-zero-copy', 'broadcast-channel'];
const RING_CAPACITY = 4 << 20;
const BATCH = 256;
/** The targets from the ring's issues, per reader, 2 readers, 64 B: batch calls >= 30x BroadcastChannel, per-record calls >= 10x. */
const TARGET_RATIO = 30;
const TARGET_RATIO_SINGLE = 10;

// Counts sized so that one round lasts roughly 0.1-1 s on a 2-core machine:
// long enough to swamp thread wake-up noise, short enough to repeat.
const COUNTS: Record<'ring' | 'broadcast', Record<number, number>> = {
  ring: { 64: 2_000_000, 1024: 400_000 },
  broadcast: { 64: 100_000, 1024: 50_000 },
};

// Compiled to dist/bench/, results belong with the sources in bench/results/.
const WORKER_FILES: Record<Transport, string> = {
  'ring-single': path.join(__dirname, '..', 'workers', 'bench', 'fanout-ring.js'),
  'ring-copy': path.join(__dirname, '..', 'workers', 'bench', 'fanout-ring.js'),
  'ring-zero-copy': path.join(__dirname, '..', 'workers', 'bench', 'fanout-ring.js'),
  'broadcast-channel': path.join(__dirname, '..', 'workers', 'bench', 'fanout-broadcast.js'),
  'message-port': path.join(__dirname, '..', 'workers', 'bench', 'fanout-message-port.js'),
};

interface RoundResult {
  /** Messages per second seen by each reader in this round. */
  perReader: number[];
  mean: number;
  min: number;
  writerSeconds: number;
  /** CPU time per message, from the kernel's per-thread accounting (null off Linux). */
  readerCpuNsPerMessage: number | null;
  writerCpuNsPerMessage: number | null;
  /** Share of the round the threads spent runnable but without a CPU (mean over threads). */
  runQueueShare: number | null;
}

interface ConfigResult {
  transport: Transport;
  readers: number;
  size: number;
  messagesPerRound: number;
  rounds: RoundResult[];
  /** Median over measured rounds of the per-reader mean: the table's figure. */
  medianPerReader: number;
  /** (max - min) / median of the round means: how noisy this configuration was. */
  spread: number;
  /** Medians over rounds of the CPU figures in RoundResult. */
  readerCpuNsPerMessage: number | null;
  writerCpuNsPerMessage: number | null;
  runQueueShare: number | null;
}

async function measure(transport: Transport, readers: number, size: number, runs: number, scale: number): Promise<ConfigResult> {
  const isRing = transport !== 'broadcast-channel';
  const count = Math.max(1000, Math.round(COUNTS[isRing ? 'ring' : 'broadcast'][size] * scale));
  const ring = isRing ? Ring.create({ capacity: RING_CAPACITY }) : null;
  const clock = new Float64Array(new SharedArrayBuffer(8));
  const spawn = (role: FanoutWorkerData['role']): Peer => {
    const workerData: FanoutWorkerData = {
      role, transport, size, batch: BATCH, clock,
      ringBuffer: ring?.buffer,
      channelName: `msgmux-bench-${process.pid}-${readers}-${size}`,
    };
    return new Peer(new Worker(WORKER_FILES[transport], { workerData }));
  };
  // Readers first: ring readers join at `earliest` before the writer exists.
  const readerPeers = Array.from({ length: readers }, () => spawn('reader'));
  const writer = spawn('writer');
  const rounds: RoundResult[] = [];
  try {
    for (let round = 0; round <= runs; round++) {
      for (const peer of readerPeers) peer.send({ type: 'run', count });
      await Promise.all(readerPeers.map((peer) => peer.next('armed')));
      writer.send({ type: 'run', count });
      const [written, ...received] = await Promise.all([writer.next('written'), ...readerPeers.map((peer) => peer.next('received'))]);
      for (const r of received) {
        if (r.outOfOrder !== 0 || r.wrongLength !== 0) {
          throw new Error(`${transport}: a reader saw ${r.outOfOrder} out-of-order and ${r.wrongLength} wrong-length messages`);
        }
      }
      if (round === 0) continue; // warm-up: JIT, page faults, thread start-up
      const perReader = received.map((r) => count / ((r.endedAt - written.startedAt) / 1000));
      const readerTimes = received.map((r) => r.thread);
      const elapsedMs = Math.max(...received.map((r) => r.endedAt)) - written.startedAt;
      const known = written.thread !== null && readerTimes.every((t) => t !== null);
      rounds.push({
        perReader,
        mean: mean(perReader),
        min: Math.min(...perReader),
        writerSeconds: (written.endedAt - written.startedAt) / 1000,
        readerCpuNsPerMessage: known ? (mean(readerTimes.map((t) => t!.cpuMs)) * 1e6) / count : null,
        writerCpuNsPerMessage: known ? (written.thread!.cpuMs * 1e6) / count : null,
        runQueueShare: known ? mean([written.thread!, ...readerTimes.map((t) => t!)].map((t) => t.runQueueMs)) / elapsedMs : null,
      });
    }
  } finally {
    await Promise.all(
      [...readerPeers, writer].map(async (peer) => {
        peer.send({ type: 'stop' });
        await peer.next('stopped').catch(() => undefined);
        await peer.worker.terminate();
      }),
    );
  }
  const means = rounds.map((r) => r.mean);
  const medianPerReader = median(means);
  const medianOf = (pick: (r: RoundResult) => number | null): number | null =>
    rounds.every((r) => pick(r) !== null) ? median(rounds.map((r) => pick(r)!)) : null;
  return {
    transport, readers, size, messagesPerRound: count, rounds, medianPerReader,
    spread: (Math.max(...means) - Math.min(...means)) / medianPerReader,
    readerCpuNsPerMessage: medianOf((r) => r.readerCpuNsPerMessage),
    writerCpuNsPerMessage: medianOf((r) => r.writerCpuNsPerMessage),
    runQueueShare: medianOf((r) => r.runQueueShare),
  };
}

const mean = (values: number[]): number => values.reduce((a, b) => a + b, 0) / values.length;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const rate = (perSecond: number): string =>
  perSecond >= 1e6 ? `${(perSecond / 1e6).toFixed(2)} M/s` : `${(perSecond / 1e3).toFixed(0)} k/s`;
const cpuNote = (r: ConfigResult): string =>
  r.readerCpuNsPerMessage === null
    ? ''
    : `  (CPU per message: reader ${r.readerCpuNsPerMessage.toFixed(0)} ns, writer ${r.writerCpuNsPerMessage!.toFixed(0)} ns;` +
      ` waiting for a CPU ${(r.runQueueShare! * 100).toFixed(0)}% of the time)`;
const ratio = (x: number): string => `${x.toFixed(1)}x`;
const pct = (x: number): string => `±${((x * 100) / 2).toFixed(0)}%`;

const find = (results: ConfigResult[], t: Transport, readers: number, size: number): ConfigResult | undefined =>
  results.find((r) => r.transport === t && r.readers === readers && r.size === size);

function table(results: ConfigResult[], plan: Plan): string {
  const header = ['readers', 'size', 'ring per-record', 'ring copy', 'ring zero-copy', 'BroadcastChannel', 'per-record / BC', 'copy / BC', 'zero-copy / BC'];
  const rows = [header];
  const cell = (r: ConfigResult | undefined): string => (r ? `${rate(r.medianPerReader)} ${pct(r.spread)}` : '-');
  const versus = (r: ConfigResult | undefined, bc: ConfigResult | undefined): string =>
    r && bc ? ratio(r.medianPerReader / bc.medianPerReader) : '-';
  for (const size of plan.sizes) {
    for (const readers of plan.readerCounts) {
      const [single, copy, zero, bc] = TRANSPORTS.map((t) => find(results, t, readers, size));
      rows.push([
        String(readers), size >= 1024 ? `${size / 1024} KiB` : `${size} B`,
        cell(single), cell(copy), cell(zero), cell(bc), versus(single, bc), versus(copy, bc), versus(zero, bc),
      ]);
    }
  }
  const widths = header.map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const line = (row: string[]): string => `| ${row.map((cell, c) => cell.padEnd(widths[c])).join(' | ')} |`;
  return [line(rows[0]), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

interface Plan {
  runs: number;
  scale: number;
  readerCounts: number[];
  sizes: number[];
  transports: Transport[];
}

function parseArgs(argv: string[]): Plan {
  const option = (name: string): string | undefined => optionOf(argv, name);
  const runs = Number(option('--runs') ?? 5);
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs needs a positive integer');
  const pick = <T>(name: string, all: T[], parse: (s: string) => T): T[] => {
    const given = option(name);
    if (given === undefined) return all;
    const value = parse(given);
    if (!all.includes(value)) throw new Error(`${name} must be one of ${all.join(', ')}`);
    return [value];
  };
  return {
    runs,
    scale: argv.includes('--quick') ? 0.1 : Number(option('--scale') ?? 1),
    readerCounts: pick('--readers', READER_COUNTS, Number),
    sizes: pick('--size', SIZES, Number),
    transports: pick('--transport', TRANSPORTS, (s) => s as Transport),
  };
}

async function main(): Promise<void> {
  const plan = parseArgs(process.argv.slice(2));
  const { runs, scale } = plan;
  const cpus = os.cpus();
  console.log(`ring fanout: node ${process.version}, ${cpus.length} CPUs (${cpus[0]?.model ?? 'unknown'}), ${runs} runs + 1 warm-up per row`);
  const results: ConfigResult[] = [];
  for (const size of plan.sizes) {
    for (const readers of plan.readerCounts) {
      // Transports side by side per row, so background load hits them alike.
      for (const transport of plan.transports) {
        const result = await measure(transport, readers, size, runs, scale);
        console.log(`  ${transport.padEnd(17)} ${readers} reader(s) ${String(size).padStart(4)} B: ${rate(result.medianPerReader)} per reader${cpuNote(result)}`);
        results.push(result);
      }
    }
  }
  const at = (t: Transport): number => find(results, t, 2, 64)?.medianPerReader ?? NaN;
  const headline = {
    single: at('ring-single') / at('broadcast-channel'),
    copy: at('ring-copy') / at('broadcast-channel'),
    zeroCopy: at('ring-zero-copy') / at('broadcast-channel'),
  };
  console.log(`\nper-reader messages/s, median of ${runs} runs (± half the min-max spread of the runs)\n`);
  console.log(table(results, plan));
  const verdict = (x: number, target: number): string => `${ratio(x)} (${x >= target ? 'meets' : 'MISSES'} the ${target}x target)`;
  if (Number.isFinite(headline.single) || Number.isFinite(headline.copy) || Number.isFinite(headline.zeroCopy)) {
    console.log(
      `\n2 readers, 64 B, ring / BroadcastChannel: per-record calls ${verdict(headline.single, TARGET_RATIO_SINGLE)},` +
        ` copying batch reader ${verdict(headline.copy, TARGET_RATIO)}, zero-copy reader ${verdict(headline.zeroCopy, TARGET_RATIO)}`,
    );
  }
  const report = {
    benchmark: 'ring-fanout',
    date: new Date().toISOString(),
    ...machine(),
    settings: { runs, warmupRuns: 1, ringCapacity: RING_CAPACITY, batch: BATCH, countScale: scale },
    metric: 'messages per second per reader: count / (reader last message - writer first write); mean over readers, median over runs',
    ratio2Readers64B: { ...headline, target: TARGET_RATIO, targetSingle: TARGET_RATIO_SINGLE },
    results,
  };
  // A slice or a --quick run must not replace the saved results of a full run.
  const complete = scale === 1 && results.length === READER_COUNTS.length * SIZES.length * TRANSPORTS.length;
  if (!complete) return console.log('\npartial run: results not saved');
  console.log(`\nwrote ${path.relative(process.cwd(), writeResults('ring-fanout', report))}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
