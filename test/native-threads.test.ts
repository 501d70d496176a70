/**
 * The binding across threads and thread exits, each scenario in a fresh
 * child `node` process so that a libuv abort, a hang or a leaked descriptor
 * shows up in its exit status and output rather than in the test runner.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { DgramSocket, MessageQueue } from '../src/native';
import { abstractName, openFdCount, queueName, runChild, waitUntil } from './helpers/native';

const WORKERS = 4;
const ROUNDS = 200;

type WorkerTask =
  | { role: 'ring'; index: number; names: string[]; ready: Int32Array; closeOnExit: boolean }
  | { role: 'open-and-leave'; queue: string };

/**
 * Worker k binds names[k] and, ROUNDS times, sends to worker k+1 then receives
 * from worker k-1: nobody gets more than a round ahead, so nothing deadlocks.
 */
function ringWorker(task: Extract<WorkerTask, { role: 'ring' }>): void {
  const sock = new DgramSocket();
  sock.bind(task.names[task.index]!);
  Atomics.add(task.ready, 0, 1);
  Atomics.notify(task.ready, 0);
  while (Atomics.load(task.ready, 0) < task.names.length) Atomics.wait(task.ready, 0, Atomics.load(task.ready, 0), 100);
  const next = task.names[(task.index + 1) % task.names.length]!;
  const prev = task.names[(task.index + task.names.length - 1) % task.names.length]!;
  const into = new Uint8Array(16);
  let received = 0;
  for (let round = 0; round < ROUNDS; round++) {
    sock.send(Uint32Array.of(round), next);
    const got = sock.recv(into);
    if (got.from === prev && got.length === 4 && new Uint32Array(into.buffer, 0, 1)[0] === round) received++;
  }
  if (task.closeOnExit) sock.close();
  parentPort!.postMessage({ result: received });
}

/** Opens descriptors and returns without closing any: thread exit must close them. */
function openAndLeave(task: Extract<WorkerTask, { role: 'open-and-leave' }>): void {
  const sockets = Array.from({ length: 8 }, () => new DgramSocket());
  sockets[0]!.bind(abstractName());
  const queue = MessageQueue.open(task.queue, { create: true, depth: 4, messageSize: 32 });
  parentPort!.postMessage({ result: sockets.length + (queue.fd >= 0 ? 1 : 0) });
}

function runTask(file: string, data: WorkerTask): Promise<number> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(file, { workerData: data });
    let result: number | undefined;
    worker.on('message', (msg: { result: number }) => (result = msg.result));
    worker.on('error', reject);
    worker.on('exit', (code) => (code === 0 && result !== undefined ? resolve(result) : reject(new Error(`worker exit ${code}`))));
  });
}

/** Child mode "ring": main thread + WORKERS workers, each on its own socket. */
async function childRing(): Promise<void> {
  const names = Array.from({ length: WORKERS }, () => abstractName());
  const ready = new Int32Array(new SharedArrayBuffer(4));
  const main = new DgramSocket(); // the main thread uses the addon too, before and after the workers
  const mainName = abstractName();
  main.bind(mainName);
  const runs = names.map((_, index) => runTask(__filename, { role: 'ring', index, names, ready, closeOnExit: index % 2 === 0 }));
  const into = new Uint8Array(8);
  let own = 0;
  for (let i = 0; i < ROUNDS; i++) {
    main.send(Uint8Array.of(i & 0xff), mainName);
    if (main.recv(into).length === 1 && into[0] === (i & 0xff)) own++;
  }
  const perWorker = await Promise.all(runs);
  main.close();
  console.log(JSON.stringify({ perWorker, own }));
}

/** Child mode "leak": descriptors left open by a worker or dropped on the main thread are closed. */
async function childLeak(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc!;
  const queue = queueName();
  try {
    await runTask(__filename, { role: 'open-and-leave', queue }); // warm-up: lazily opened runtime fds settle
    const before = openFdCount();
    const opened: number[] = [];
    for (let i = 0; i < 3; i++) opened.push(await runTask(__filename, { role: 'open-and-leave', queue }));
    const afterWorkers = openFdCount();

    (() => {
      for (let i = 0; i < 50; i++) new DgramSocket().bind(abstractName()); // dropped, never closed
    })();
    const withGarbage = openFdCount();
    await waitUntil(() => {
      gc();
      return openFdCount() <= before;
    }, 20_000).catch(() => undefined);
    console.log(JSON.stringify({ before, opened, afterWorkers, withGarbage, afterGc: openFdCount() }));
  } finally {
    MessageQueue.unlink(queue);
  }
}

if (!isMainThread) {
  const task = workerData as WorkerTask;
  if (task.role === 'ring') ringWorker(task);
  else openAndLeave(task);
} else if (process.env.MSGMUX_NATIVE_CHILD === 'ring') {
  void childRing();
} else if (process.env.MSGMUX_NATIVE_CHILD === 'leak') {
  void childLeak();
} else {
  test(`the binding in ${WORKERS} worker threads and the main thread at once; the process exits cleanly`, () => {
    const child = runChild(__filename, 'ring');
    assert.equal(child.error, undefined, 'the child finished (no hang)');
    assert.equal(child.signal, null);
    assert.doesNotMatch(child.stderr, /Assertion|uv_|Aborted|Module did not self-register/);
    assert.equal(child.status, 0, child.stderr);
    const report = JSON.parse(child.stdout) as { perWorker: number[]; own: number };
    assert.deepEqual(report, { perWorker: new Array(WORKERS).fill(ROUNDS), own: ROUNDS });
  });

  test('no descriptor leaks: a worker that exits without closing, and sockets dropped for the GC', () => {
    const child = runChild(__filename, 'leak', ['--expose-gc']);
    assert.equal(child.error, undefined, 'the child finished (no hang)');
    assert.equal(child.status, 0, child.stderr);
    const r = JSON.parse(child.stdout) as { before: number; opened: number[]; afterWorkers: number; withGarbage: number; afterGc: number };
    assert.deepEqual(r.opened, [9, 9, 9], 'each worker really held 8 sockets and a queue');
    assert.equal(r.afterWorkers, r.before, 'thread exit closed everything the workers left open');
    assert.equal(r.withGarbage, r.before + 50);
    assert.equal(r.afterGc, r.before, 'garbage-collected sockets were closed');
  });
}
