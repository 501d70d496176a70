import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { WorkerTask } from '../fixtures/ring-worker';

export const RING_WORKER = path.join(__dirname, '..', 'fixtures', 'ring-worker.js');

/** Starts the ring worker fixture and resolves with its first message; rejects if it fails or exits without one. */
export function runWorker<T>(task: WorkerTask, onStart?: (worker: Worker) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(RING_WORKER, { workerData: task });
    onStart?.(worker);
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`ring worker (${task.role}) exited with code ${code} before reporting`)));
  });
}
