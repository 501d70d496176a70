/**
 * Shared pieces for the native binding tests: unique names, cleanup that runs
 * even when a test fails, and running this same file as a worker or child.
 * (Loaded as a test file by `node --test dist/test/`, it defines no tests.)
 */
import { spawnSync, SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { DgramSocket } from '../../src/native';

let counter = 0;
const nonce = Math.random().toString(36).slice(2, 8);

/** `/msgmux-test-<pid>-<n>`: unique per test process. */
export function queueName(): string {
  return `/msgmux-test-${process.pid}-${nonce}-${counter++}`;
}

/** `@msgmux-test-<pid>-<n>`: a unique abstract socket name. */
export function abstractName(): string {
  return `@msgmux-test-${process.pid}-${nonce}-${counter++}`;
}

/**
 * A receiving socket bound to a fresh abstract name and a non-blocking sender
 * (not connected), both closed after the test.
 */
export function boundPair(t: { after(fn: () => void): void }, rxOptions: { nonBlocking?: boolean } = {}): { rx: DgramSocket; tx: DgramSocket; address: string } {
  const rx = new DgramSocket(rxOptions);
  const tx = new DgramSocket({ nonBlocking: true });
  t.after(() => {
    tx.close();
    rx.close();
  });
  const address = abstractName();
  rx.bind(address);
  return { rx, tx, address };
}

/** Runs deferred cleanups in reverse order; errors from one do not skip the rest. */
export class Cleanup {
  #steps: (() => void)[] = [];

  defer(step: () => void): void {
    this.#steps.push(step);
  }

  /** Registers `thing.close()`, returning `thing` for inline use. */
  closes<T extends { close(): void }>(thing: T): T {
    this.defer(() => thing.close());
    return thing;
  }

  /** A private temporary directory for filesystem sockets, removed afterwards. */
  tempDir(): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'msgmux-test-'));
    this.defer(() => fs.rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  run(): void {
    for (const step of this.#steps.splice(0).reverse()) {
      try {
        step();
      } catch {
        // already gone: that is the state cleanup wants
      }
    }
  }
}

/** Unlinks a queue if it exists (cleanup for queues created in a test). */
export function unlinkQuietly(unlink: (name: string) => void, name: string): () => void {
  return () => {
    try {
      unlink(name);
    } catch {
      // not created, or already removed
    }
  };
}

export interface WorkerRun<T> {
  worker: Worker;
  /** Messages of the form { stage, ... } other than the final { result }. */
  onStage(listener: (stage: Record<string, unknown>) => void): void;
  result: Promise<T>;
}

/**
 * Starts `file` as a worker with `data`. The worker posts `{ stage }` messages
 * along the way and `{ result }` at the end; an error or an exit without a
 * result rejects. `timeoutMs` only bounds a hang, it is not an assertion.
 */
export function startWorker<T>(file: string, data: unknown, timeoutMs = 30_000): WorkerRun<T> {
  const worker = new Worker(file, { workerData: data });
  const listeners: ((stage: Record<string, unknown>) => void)[] = [];
  const result = new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`worker did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    worker.on('message', (msg: { result?: T; stage?: string }) => {
      if ('result' in msg) {
        clearTimeout(timer);
        resolve(msg.result as T);
      } else for (const l of listeners) l(msg);
    });
    worker.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    worker.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with code ${code} before reporting a result`));
    });
  });
  return { worker, onStage: (l) => listeners.push(l), result };
}

/** Runs `file` in a fresh `node` process with MSGMUX_NATIVE_CHILD=`mode`, bounded by `timeoutMs`. */
export function runChild(file: string, mode: string, nodeFlags: string[] = [], timeoutMs = 60_000): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [...nodeFlags, file], {
    env: { ...process.env, MSGMUX_NATIVE_CHILD: mode },
    encoding: 'utf8',
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
}

/** Records whose bytes encode their own index, so order and integrity are checkable. */
export function fillRecord(bytes: Uint8Array, index: number): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  view.setUint32(0, index, true);
  for (let i = 4; i < bytes.length; i++) bytes[i] = (index + i) & 0xff;
}

/** The index a record claims, or -1 when its bytes are not what fillRecord wrote. */
export function checkRecord(bytes: Uint8Array): number {
  if (bytes.length < 4) return -1;
  const index = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  for (let i = 4; i < bytes.length; i++) if (bytes[i] !== ((index + i) & 0xff)) return -1;
  return index;
}

/** Descriptors this process holds right now. */
export function openFdCount(): number {
  return fs.readdirSync('/proc/self/fd').length;
}

/** Yields to the event loop until `done()` holds; `timeoutMs` only bounds a hang. */
export async function waitUntil(done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}
