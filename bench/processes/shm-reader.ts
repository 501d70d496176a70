/**
 * A reader for bench/shm-fanout.bench.ts, in a process of its own or a
 * worker thread: reads `count` records of the ring it is given (a grant for a
 * process, by IPC; the ring's buffer for a thread), then reports when it read the
 * last one (wall clock, ms) to its parent.
 */
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Ring } from '../../src/ring';
import { openShmReader, type ShmGrant } from '../../src/shm';

export interface ShmBenchReport {
  doneAt: number;
  received: number;
}

function drain(reader: ReturnType<Ring['reader']>, count: number): ShmBenchReport {
  let received = 0;
  while (received < count) {
    received += reader.peekSync(1024, 10_000).count;
    reader.release();
  }
  return { doneAt: performance.timeOrigin + performance.now(), received };
}

if (isMainThread) {
  // The grant comes first (the parent knows it only after the fork), then 'go'.
  process.once('message', (grant: ShmGrant) => {
    const { reader } = openShmReader(grant, { maxBatch: 1024 });
    process.send!('ready');
    process.once('message', () => {
      process.send!(drain(reader, Number(process.argv[2])));
      reader.close();
      process.disconnect();
    });
  });
} else {
  const { buffer, count } = workerData as { buffer: SharedArrayBuffer; count: number };
  const reader = Ring.attach(buffer).reader({ start: 'earliest', maxBatch: 1024 });
  parentPort!.postMessage('ready');
  parentPort!.once('message', () => parentPort!.postMessage(drain(reader, count)));
}
