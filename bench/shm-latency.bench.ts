/**
 * Write-to-read latency through a ring in shared memory (the library use, no
 * daemon): this process writes one 64 B record at a steady rate, stamped with
 * CLOCK_MONOTONIC; N reader processes read it with the async API a
 * subscriber uses (`readBatch`) and report each record's latency. Each case
 * runs with the readers' asynchronous futex waits polled by their event loop
 * through io_uring (where the kernel has it) and on libuv's thread pool
 * (MSGMUX_ASYNC_WAITS=pool), one after the other.
 *
 *   node dist/bench/shm-latency.bench.js [--rate 10000] [--readers 1,4,16]
 *
 * Prints p50/p99/p99.9 over every reader's samples, one line per case, and
 * writes bench/results/shm-latency.json.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { ShmRing } from '../src/shm';
import { shmBinding, type AsyncWaitKind } from '../src/shm/binding';
import { machine, writeResults } from './lib/report';
import { optionOf } from './lib/options';

const SCRIPT = path.join(__dirname, 'processes', 'shm-latency-reader.js');
const option = (name: string, fallback: string): string => optionOf(process.argv.slice(2), `--${name}`) ?? fallback;
const RATE = Number(option('rate', '10000'));
const READERS = option('readers', '1,4,16').split(',').map(Number);
/** One second of records at the rate. */
const COUNT = RATE;

/** Writes COUNT stamped records, each at its due time (sleeping in Atomics.wait between them: no spinning). */
function writePaced(host: ShmRing): void {
  const writer = host.ring.writer();
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const record = Buffer.alloc(64);
  const start = process.hrtime.bigint();
  for (let i = 0; i < COUNT; i++) {
    const due = start + BigInt(Math.round((i * 1e9) / RATE));
    for (let left = Number(due - process.hrtime.bigint()) / 1e6; left > 0; left = Number(due - process.hrtime.bigint()) / 1e6) Atomics.wait(nap, 0, 0, left);
    record.writeBigUInt64LE(process.hrtime.bigint(), 0);
    if (!writer.tryWrite(record)) throw new Error('the ring is full: a reader fell a ring behind');
  }
}

interface CaseResult {
  readers: number;
  waits: AsyncWaitKind;
  samples: number;
  p50Us: number;
  p99Us: number;
  p999Us: number;
}

async function measure(readers: number, waits: AsyncWaitKind): Promise<CaseResult> {
  const host = ShmRing.create({ name: `/msgmux-shm-latency-${process.pid}-${readers}`, capacity: 4 << 20, processReaders: readers });
  const env = { ...process.env, MSGMUX_ASYNC_WAITS: waits === 'thread pool' ? 'pool' : '' };
  try {
    const children = Array.from({ length: readers }, () => fork(SCRIPT, [String(COUNT)], { env }));
    const results = children.map((child) => new Promise<number[]>((resolve) => child.on('message', (m) => Array.isArray(m) && resolve(m as number[]))));
    await Promise.all(
      children.map((child) => {
        child.send(host.grant({ pid: child.pid!, uid: process.getuid!(), gid: process.getgid!(), policy: 'block', start: 'latest' }));
        return once(child, 'message');
      }),
    );
    writePaced(host);
    const all = (await Promise.all(results)).flat().sort((a, b) => a - b);
    const at = (q: number): number => all[Math.min(all.length - 1, Math.floor(all.length * q))] / 1e3;
    return { readers, waits, samples: all.length, p50Us: at(0.5), p99Us: at(0.99), p999Us: at(0.999) };
  } finally {
    host.close();
  }
}

void (async () => {
  // This process's own kind is the readers' too (the same kernel), unless the environment forces the pool.
  const kinds: AsyncWaitKind[] = shmBinding().futexWaitAsyncKind() === 'io_uring' ? ['io_uring', 'thread pool'] : ['thread pool'];
  const cases: CaseResult[] = [];
  for (const readers of READERS) {
    for (const waits of kinds) {
      const r = await measure(readers, waits);
      cases.push(r);
      const us = (v: number): string => v.toFixed(1);
      console.log(`${readers} reader processes, ${RATE} records/s, waits via ${waits}: p50 ${us(r.p50Us)} us, p99 ${us(r.p99Us)} us, p99.9 ${us(r.p999Us)} us (${r.samples} samples)`);
    }
  }
  writeResults('shm-latency', { benchmark: 'shm-latency', date: new Date().toISOString(), ...machine(), rate: RATE, cases });
})();
