/**
 * Native binding throughput, in one run:
 * - AF_UNIX datagrams, one sender (this process) to one receiver (a child
 *   process draining with recvmmsg and reporting counts): per-datagram send()
 *   against sendmmsg batches, at 64 B and 1 KiB;
 * - POSIX mq, sender on the main thread, receiver in a worker draining with
 *   receiveBatch: at depth 10 and at the deepest queue this machine allows.
 * Prints a table and writes bench/results/native-dgram-mq.json.
 *
 *   node dist/bench/native-dgram-mq.bench.js
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { DgramSocket, isSyscallError, MessageQueue } from '../src/native';
import { readMsgMax, withMsgMaxAtLeast } from '../src/bench/msg-max';
import { machine, median, writeResults } from './lib/report';

const RUNS = 5;
const DGRAM_MESSAGES = 100_000;
const MQ_MESSAGES = 100_000;
const BATCH = 64;
const SLOT = 2048;
const MQ_SIZE = 64;

interface Row {
  transport: string;
  payload: number;
  mode: string;
  messages: number;
  msgsPerSec: number[];
  median: number;
}

const readNumber = (file: string) => Number.parseInt(fs.readFileSync(file, 'utf8'), 10);

/** Child process: drains datagrams until a 0-byte marker ends a phase, reports, repeats; 'Q' quits. */
function receiver(address: string): void {
  const sock = new DgramSocket();
  sock.bind(address);
  const slots = new Uint8Array(SLOT * 256);
  const lengths = new Int32Array(256);
  let count = 0;
  let bytes = 0;
  process.stdout.write('ready\n');
  for (;;) {
    const n = sock.recvBatch(slots, SLOT, 256, lengths);
    for (let i = 0; i < n; i++) {
      const len = lengths[i];
      if (len === 0) {
        fs.writeSync(1, JSON.stringify({ count, bytes }) + '\n');
        count = bytes = 0;
      } else if (len === 1 && slots[i * SLOT] === 0x51 /* Q */) {
        sock.close();
        return;
      } else {
        count++;
        bytes += len;
      }
    }
  }
}

/** Worker: receives `messages` from the queue in batches, then reports. */
function mqReceiver(task: { name: string; messages: number }): void {
  const q = MessageQueue.open(task.name, { write: false });
  const slots = new Uint8Array(MQ_SIZE * BATCH);
  const lengths = new Int32Array(BATCH);
  let got = 0;
  while (got < task.messages) {
    const n = q.receiveBatch(slots, 0, MQ_SIZE, BATCH, lengths, null, 10_000);
    if (n === 0) break;
    got += n;
  }
  q.close();
  parentPort!.postMessage(got);
}

async function dgramRows(): Promise<Row[]> {
  const address = `@msgmux-bench-${process.pid}`;
  const child = spawn(process.execPath, [__filename, '--receiver', address], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async () => (await lines.next()).value as string;
  if ((await nextLine()) !== 'ready') throw new Error('receiver did not start');

  const sock = new DgramSocket();
  sock.connect(address);
  const rows: Row[] = [];
  try {
    for (const payload of [64, 1024]) {
      const buffer = new SharedArrayBuffer(payload * BATCH);
      new Uint8Array(buffer).fill(0x61);
      const one = new Uint8Array(buffer, 0, payload);
      const offsets = Int32Array.from({ length: BATCH }, (_, i) => i * payload);
      const lengths = new Int32Array(BATCH).fill(payload);
      const modes: [string, () => void][] = [
        ['send() per datagram', () => { for (let i = 0; i < DGRAM_MESSAGES; i++) sock.send(one); }],
        [`sendmmsg x${BATCH}`, () => {
          for (let sent = 0; sent < DGRAM_MESSAGES; ) {
            const want = Math.min(BATCH, DGRAM_MESSAGES - sent);
            let done = 0;
            while (done < want) done += sock.sendBatch(buffer, offsets.subarray(done), lengths.subarray(done), want - done);
            sent += want;
          }
        }],
      ];
      for (const [mode, run] of modes) {
        const rates: number[] = [];
        for (let r = 0; r < RUNS; r++) {
          const start = process.hrtime.bigint();
          run();
          sock.send(new Uint8Array(0)); // end of phase
          const report = JSON.parse(await nextLine()) as { count: number };
          const seconds = Number(process.hrtime.bigint() - start) / 1e9;
          if (report.count !== DGRAM_MESSAGES) throw new Error(`receiver counted ${report.count} of ${DGRAM_MESSAGES}`);
          rates.push(Math.round(report.count / seconds));
        }
        rows.push({ transport: 'AF_UNIX dgram', payload, mode, messages: DGRAM_MESSAGES, msgsPerSec: rates, median: median(rates) });
      }
    }
  } finally {
    sock.send(Uint8Array.of(0x51));
    sock.close();
    await new Promise((resolve) => child.once('exit', resolve));
  }
  return rows;
}

async function mqRate(depth: number): Promise<number> {
  const name = `/msgmux-bench-${process.pid}-${depth}`;
  const { value: q } = await withMsgMaxAtLeast(depth, async () => MessageQueue.open(name, { create: true, exclusive: true, depth, messageSize: MQ_SIZE }));
  try {
    const worker = new Worker(__filename, { workerData: { name, messages: MQ_MESSAGES } });
    const done = new Promise<number>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const payload = new Uint8Array(MQ_SIZE).fill(0x62);
    const start = process.hrtime.bigint();
    for (let i = 0; i < MQ_MESSAGES; i++) q.send(payload, i & 7);
    const got = await done;
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    if (got !== MQ_MESSAGES) throw new Error(`mq receiver got ${got} of ${MQ_MESSAGES}`);
    return Math.round(got / seconds);
  } finally {
    q.close();
    MessageQueue.unlink(name);
  }
}

/** Largest depth mq_open accepts for MQ_SIZE-byte messages right now (binary search, nothing left behind). */
function deepestDepth(upper: number): number {
  const name = `/msgmux-bench-probe-${process.pid}`;
  const fits = (depth: number) => {
    try {
      MessageQueue.open(name, { create: true, exclusive: true, depth, messageSize: MQ_SIZE }).close();
      MessageQueue.unlink(name);
      return true;
    } catch (err) {
      if (isSyscallError(err, 'EINVAL') || isSyscallError(err, 'EMFILE') || isSyscallError(err, 'ENOMEM')) return false;
      throw err;
    }
  };
  let lo = 1;
  let hi = upper;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/**
 * Without CAP_SYS_RESOURCE, depth is capped by msg_max. As root the bench
 * raises msg_max only while it creates a queue (withMsgMaxAtLeast puts the old
 * value back, also on SIGINT/SIGTERM).
 */
async function mqRows(): Promise<{ rows: Row[]; deepest: number; deepestNote: string }> {
  const probe = await withMsgMaxAtLeast(65536, async () => deepestDepth(65536));
  const deepest = probe.value;
  const note = probe.raised
    ? 'msg_max raised to 65536 while each queue was created; depth then capped by RLIMIT_MSGQUEUE (ulimit -q)'
    : `msg_max=${probe.original}; deeper queues need msg_max raised (root)`;
  const rows: Row[] = [];
  for (const depth of [10, deepest]) {
    const rates: number[] = [];
    for (let r = 0; r < RUNS; r++) rates.push(await mqRate(depth));
    rows.push({ transport: 'POSIX mq', payload: MQ_SIZE, mode: `depth ${depth}, receiveBatch x${BATCH}`, messages: MQ_MESSAGES, msgsPerSec: rates, median: median(rates) });
  }
  return { rows, deepest, deepestNote: note };
}

async function main(): Promise<void> {
  const dgram = await dgramRows();
  const mq = await mqRows();
  const rows = [...dgram, ...mq.rows];
  const fmt = (n: number) => n.toLocaleString('en-US');
  console.log(`| transport | payload | mode | messages | msgs/s, median of ${RUNS} | min - max |`);
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    const range = `${fmt(Math.min(...r.msgsPerSec))} - ${fmt(Math.max(...r.msgsPerSec))}`;
    console.log(`| ${r.transport} | ${r.payload} B | ${r.mode} | ${fmt(r.messages)} | ${fmt(r.median)} | ${range} |`);
  }
  const result = {
    benchmark: 'native-dgram-mq',
    date: new Date().toISOString(),
    machine: { ...machine(), max_dgram_qlen: readNumber('/proc/sys/net/unix/max_dgram_qlen'), mq_msg_max: readMsgMax() },
    mqDeepest: { depth: mq.deepest, messageSize: MQ_SIZE, note: mq.deepestNote },
    rows,
  };
  const out = writeResults('native-dgram-mq', result);
  console.log(`\nwritten ${path.relative(process.cwd(), out)}`);
}

if (!isMainThread) mqReceiver(workerData as { name: string; messages: number });
else if (process.argv[2] === '--receiver') receiver(process.argv[3]);
else void main().catch((err) => { console.error(err); process.exitCode = 1; });
