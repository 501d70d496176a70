/**
 * A ring in shared memory read by reader processes, against the same ring
 * read by reader threads (the library use, no daemon): one writer (this
 * process's main thread, batch writes of 64 B records) and N readers that
 * peek and release in batches.
 *
 *   node dist/bench/shm-fanout.bench.js [--count 2000000] [--readers 2,16]
 *
 * A round's rate per reader is records / (its last record - the first
 * write); delivered/s is the sum over readers. Prints one line per case.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Ring } from '../src/ring';
import { ShmRing } from '../src/shm';
import type { ShmBenchReport } from './processes/shm-reader';
import { optionOf } from './lib/options';

const SCRIPT = path.join(__dirname, 'processes', 'shm-reader.js');
const CAPACITY = 4 << 20;
const option = (name: string, fallback: string): string => optionOf(process.argv.slice(2), `--${name}`) ?? fallback;
const COUNT = Number(option('count', '2000000'));
const READERS = option('readers', '2,16').split(',').map(Number);

interface Endpoint {
  ready: Promise<unknown>;
  start(): void;
  done: Promise<ShmBenchReport>;
}

async function writeAll(ring: Ring, count: number): Promise<number> {
  const writer = ring.writer();
  const batch = Array.from({ length: 256 }, () => new Uint8Array(64));
  const started = performance.timeOrigin + performance.now();
  for (let n = 0; n < count; n += batch.length) await writer.writeBatch(batch.slice(0, Math.min(batch.length, count - n)));
  writer.close();
  return started;
}

async function round(kind: 'threads' | 'processes', readers: number): Promise<{ perReader: number[]; delivered: number; writerRate: number }> {
  let host: ShmRing | null = null;
  const ring = kind === 'threads' ? Ring.create({ capacity: CAPACITY }) : (host = ShmRing.create({ name: `/msgmux-bench-${process.pid}`, capacity: CAPACITY, processReaders: readers })).ring;
  const endpoints: Endpoint[] = [];
  for (let i = 0; i < readers; i++) {
    if (host === null) {
      const worker = new Worker(SCRIPT, { workerData: { buffer: ring.buffer, count: COUNT } });
      const ready = once(worker, 'message');
      endpoints.push({ ready, start: () => worker.postMessage('go'), done: ready.then(async () => ((await once(worker, 'message')) as [ShmBenchReport])[0]).finally(() => worker.terminate()) });
    } else {
      const child = fork(SCRIPT, [String(COUNT)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'json' });
      const grant = host.grant({ pid: child.pid!, uid: process.getuid!(), gid: process.getgid!(), start: 'earliest' });
      child.send(grant);
      endpoints.push(childEndpoint(child));
    }
  }
  try {
    await Promise.all(endpoints.map((e) => e.ready));
    for (const e of endpoints) e.start();
    const started = await writeAll(ring, COUNT);
    const writerEnd = performance.timeOrigin + performance.now();
    const reports = await Promise.all(endpoints.map((e) => e.done));
    const perReader = reports.map((r) => r.received / ((r.doneAt - started) / 1000));
    return { perReader, delivered: perReader.reduce((a, b) => a + b, 0), writerRate: COUNT / ((writerEnd - started) / 1000) };
  } finally {
    host?.close();
  }
}

function childEndpoint(child: ReturnType<typeof fork>): Endpoint {
  const messages: unknown[] = [];
  const waiters: ((m: unknown) => void)[] = [];
  child.on('message', (m) => (waiters.length > 0 ? waiters.shift()!(m) : messages.push(m)));
  const next = (): Promise<unknown> => (messages.length > 0 ? Promise.resolve(messages.shift()) : new Promise((r) => waiters.push(r)));
  const ready = next();
  return { ready, start: () => child.send('go'), done: ready.then(next) as Promise<ShmBenchReport> };
}

async function main(): Promise<void> {
  console.log(`shm fanout, 64 B records, ${COUNT} per round (one run; the machine may be loaded by others)`);
  for (const readers of READERS) {
    for (const kind of ['threads', 'processes'] as const) {
      const r = await round(kind, readers);
      const slowest = Math.min(...r.perReader);
      console.log(
        `${String(readers).padStart(2)} reader ${kind.padEnd(9)}  writer ${(r.writerRate / 1e6).toFixed(2)} M/s  ` +
          `per reader mean ${(r.delivered / readers / 1e6).toFixed(2)} M/s, slowest ${(slowest / 1e6).toFixed(2)} M/s ` +
          `(${((slowest / r.writerRate) * 100).toFixed(0)}% of the writer)  delivered ${(r.delivered / 1e6).toFixed(2)} M/s`,
      );
    }
  }
}

void main();
