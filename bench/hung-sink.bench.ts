/**
 * What a daemon costs while nothing moves: CPU time and wake-ups (voluntary
 * context switches: each is a sleep some thread woke from), per thread,
 * over a quiet interval, in two states:
 *
 *   hung: one `block` sink whose socket is bound but never read, the ring
 *         and the queue full: the sink worker waits for room in its socket,
 *         ingest for room in the ring, publishers (none here) in mq_send.
 *   idle: one `block` sink, nothing published.
 *
 * A daemon with wakeable waits (doorbells, no timed checks of a stop flag)
 * should wake only for its timers here.
 *
 *   node dist/bench/hung-sink.bench.js [--seconds 10] [--ring-size 1M]
 *
 * Results go to bench/results/hung-sink.json. The numbers are only as quiet
 * as the machine: the load average is recorded beside them.
 */
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { onCleanup } from '../src/bench/cleanup';
import { DgramSocket, MessageQueue } from '../src/native';
import { BenchDaemon } from './lib/daemon';
import { cpuUseOver, voluntarySwitches } from './lib/proc-stats';
import { machine, markdownTable, writeResults } from './lib/report';
import { optionOf } from './lib/options';

const MESSAGE_BYTES = 64;
const MAX_MESSAGE = 128;
const QUEUE_DEPTH = 10;
/** A send that waits this long without room means the bus is full. */
const FULL_AFTER_MS = 500;
/**
 * Time for the daemon's threads to reach the waits they would stay in, and
 * for V8's housekeeping after the last control request (its memory reducer
 * runs GCs for some seconds after activity) to end: the interval measured is
 * then the daemon's steady state.
 */
const SETTLE_MS = 10_000;

interface Plan {
  seconds: number;
  ringSize: string;
}

interface ThreadWakeups {
  tid: number;
  name: string;
  /** "main" for the main thread; otherwise the syscall it was blocked in at the end (sink and control: poll). */
  waitingIn: string;
  wakeups: number;
  onCpuMs: number;
}

interface StateResult {
  state: 'hung' | 'idle';
  seconds: number;
  /** Messages published before the queue stayed full (hung only). */
  publishedUntilFull: number;
  ingest: string;
  cpuMs: number;
  cpuMsFromSchedstat: number;
  wakeups: number;
  wakeupsPerSecond: number;
  /** Threads that woke at all, most wake-ups first. */
  threads: ThreadWakeups[];
  loadAverage: { before: number[]; after: number[] };
}

function parsePlan(argv: string[]): Plan {
  const option = (name: string): string | undefined => optionOf(argv, name);
  const seconds = Number(option('--seconds') ?? 10);
  if (!(seconds > 0)) throw new Error(`--seconds must be a positive number (got ${option('--seconds')})`);
  return { seconds, ringSize: option('--ring-size') ?? '1M' };
}

/** Publishes until a send finds no room for FULL_AFTER_MS; returns how many went in. */
function fillBus(queueName: string): number {
  const queue = MessageQueue.open(queueName, { read: false, write: true });
  try {
    const message = Buffer.alloc(MESSAGE_BYTES);
    let sent = 0;
    while (queue.timedSend(message, 0, FULL_AFTER_MS)) sent++;
    return sent;
  } finally {
    queue.close();
  }
}

/** Wake-ups and CPU of the daemon's threads over `seconds`. */
async function measureQuiet(daemon: BenchDaemon, seconds: number): Promise<Omit<StateResult, 'state' | 'publishedUntilFull' | 'ingest'>> {
  const before = voluntarySwitches(daemon.pid);
  const loadBefore = os.loadavg();
  const cpu = await cpuUseOver(daemon.pid, seconds * 1000);
  const after = voluntarySwitches(daemon.pid);
  const onCpu = new Map(cpu.busyThreads.map((t) => [t.tid, t.onCpuMs]));
  const threads = [...after]
    .map(([tid, t]) => ({
      tid, name: t.name, waitingIn: tid === daemon.pid ? 'main' : t.waitingIn, wakeups: t.switches - (before.get(tid)?.switches ?? 0), onCpuMs: onCpu.get(tid) ?? 0,
    }))
    .filter((t) => t.wakeups > 0)
    .sort((a, b) => b.wakeups - a.wakeups);
  const wakeups = threads.reduce((sum, t) => sum + t.wakeups, 0);
  return {
    seconds: cpu.seconds,
    cpuMs: (cpu.ticks / 100) * 1000,
    cpuMsFromSchedstat: cpu.shareOfOneCoreFromSchedstat * cpu.seconds * 1000,
    wakeups,
    wakeupsPerSecond: wakeups / cpu.seconds,
    threads,
    loadAverage: { before: loadBefore, after: os.loadavg() },
  };
}

async function measureState(state: StateResult['state'], plan: Plan): Promise<StateResult> {
  const daemon = await BenchDaemon.start({ queueDepth: QUEUE_DEPTH, maxMessage: MAX_MESSAGE, ringSize: plan.ringSize });
  const socket = new DgramSocket({ nonBlocking: true });
  const closeSocket = onCleanup(() => socket.close());
  try {
    const address = `${daemon.addressPrefix}/sink`;
    socket.bind(address);
    await daemon.subscribe(address, 'block');
    let publishedUntilFull = 0;
    if (state === 'hung') publishedUntilFull = fillBus(daemon.queue);
    await sleep(SETTLE_MS);
    const measured = await measureQuiet(daemon, plan.seconds);
    const { ingest } = await daemon.stats(); // afterwards: a request wakes the daemon
    return { state, publishedUntilFull, ingest, ...measured };
  } finally {
    await daemon.stop();
    closeSocket();
  }
}

function report(results: StateResult[]): void {
  const rows = results.map((r) => [
    r.state, r.ingest, `${r.seconds.toFixed(1)} s`, `${r.cpuMs.toFixed(0)} ms`, `${r.cpuMsFromSchedstat.toFixed(1)} ms`,
    String(r.wakeups), r.wakeupsPerSecond.toFixed(2), r.threads.map((t) => `${t.tid} (${t.waitingIn}): ${t.wakeups}`).join(', '),
    r.loadAverage.before[0].toFixed(2),
  ]);
  console.log(markdownTable(['state', 'ingest', 'interval', 'CPU (ticks)', 'CPU (schedstat)', 'wake-ups', 'per s', 'by thread', 'load avg'], rows));
}

async function main(): Promise<void> {
  const plan = parsePlan(process.argv.slice(2));
  const results: StateResult[] = [];
  for (const state of ['hung', 'idle'] as const) results.push(await measureState(state, plan));
  report(results);
  const file = writeResults('hung-sink', { benchmark: 'hung-sink', when: new Date().toISOString(), machine: machine(), plan, results });
  console.log(`wrote ${file}`);
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exit(1);
});
