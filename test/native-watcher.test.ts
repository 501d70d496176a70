/**
 * ReadableWatcher (libuv poll on this thread's loop) with DgramSocket.tryRecv:
 * what lets a thread that serves its event loop receive datagrams without a
 * thread of its own (the daemon's control socket).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import path from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { DgramSocket, ReadableWatcher } from '../src/native';
import { abstractName, boundPair } from './helpers/native';

const NATIVE = path.join(__dirname, '..', 'src', 'native');

/** The receiver is blocking: tryRecv must still never wait. */
const pair = (t: { after(fn: () => void): void }): ReturnType<typeof boundPair> => boundPair(t);

/** Resolves with each batch a watcher callback drained, until `count` datagrams have come. */
function collect(rx: DgramSocket, count: number, perCall = Infinity): { watcher: ReadableWatcher; done: Promise<string[][]> } {
  const calls: string[][] = [];
  const buffer = Buffer.alloc(64);
  let seen = 0;
  let finish: (calls: string[][]) => void = () => undefined;
  const done = new Promise<string[][]>((resolve) => (finish = resolve));
  const watcher = new ReadableWatcher(rx.fd, (err) => {
    assert.equal(err, null);
    const batch: string[] = [];
    for (let got; batch.length < perCall && (got = rx.tryRecv(buffer)) !== null; ) batch.push(buffer.toString('utf8', 0, got.length));
    calls.push(batch);
    seen += batch.length;
    if (seen >= count) finish(calls);
  });
  return { watcher, done };
}

test('tryRecv on an empty blocking socket returns null at once; it reports sender, length and truncation', (t) => {
  const { rx, tx, address } = pair(t);
  assert.equal(rx.tryRecv(Buffer.alloc(8)), null);
  const from = abstractName();
  tx.bind(from);
  tx.send(Buffer.from('0123456789'), address);
  const into = Buffer.alloc(4);
  assert.deepEqual(rx.tryRecv(into), { length: 10, from });
  assert.equal(into.toString(), '0123');
  assert.equal(rx.tryRecv(into), null);
});

test('a watcher is called on the loop once datagrams are queued, and the callback takes all of them', async (t) => {
  const { rx, tx, address } = pair(t);
  const { watcher, done } = collect(rx, 3);
  t.after(() => watcher.close());
  for (const text of ['a', 'b', 'c']) tx.send(Buffer.from(text), address); // all queued before the loop turns
  const calls = await done;
  assert.deepEqual(calls.flat(), ['a', 'b', 'c']);
  assert.deepEqual(calls[0], ['a', 'b', 'c'], 'one readiness, every queued datagram taken in it');
});

test('level-triggered: a callback that takes one datagram per call is called again for the rest', async (t) => {
  const { rx, tx, address } = pair(t);
  const { watcher, done } = collect(rx, 3, 1);
  t.after(() => watcher.close());
  for (const text of ['a', 'b', 'c']) tx.send(Buffer.from(text), address);
  assert.deepEqual(await done, [['a'], ['b'], ['c']]);
});

test('after close() the callback is not called again, though the socket stays readable', async (t) => {
  const { rx, tx, address } = pair(t);
  const { watcher, done } = collect(rx, 1);
  tx.send(Buffer.from('first'), address);
  assert.deepEqual(await done, [['first']]);
  watcher.close();
  watcher.close(); // idempotent
  tx.send(Buffer.from('second'), address);
  for (let i = 0; i < 5; i++) await turn();
  const got = rx.tryRecv(Buffer.alloc(16));
  assert.equal(got?.length, 6, 'the second datagram is still queued: nobody took it');
});

test('a watcher left open in a worker thread that is terminated is closed with it', async (t) => {
  const { rx, tx, address } = pair(t);
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const { DgramSocket, ReadableWatcher } = require(workerData.native);
     const rx = new DgramSocket();
     rx.bind(workerData.address);
     new ReadableWatcher(rx.fd, () => parentPort.postMessage(rx.tryRecv(Buffer.alloc(16)).length));
     parentPort.postMessage('watching');`,
    { eval: true, workerData: { native: NATIVE, address: `${address}-worker` } },
  );
  const [first] = (await once(worker, 'message')) as [string];
  assert.equal(first, 'watching');
  tx.send(Buffer.from('hello'), `${address}-worker`);
  const [length] = (await once(worker, 'message')) as [number];
  assert.equal(length, 5);
  const exited = once(worker, 'exit');
  await worker.terminate(); // the open watcher keeps its loop alive: only a terminate ends it
  await exited;
  assert.equal(rx.tryRecv(Buffer.alloc(8)), null, 'this process carries on');
});

test('bad arguments are refused with codes', () => {
  assert.throws(() => new ReadableWatcher(-1, () => undefined), { code: 'ERR_OUT_OF_RANGE' });
  assert.throws(() => new ReadableWatcher(0, 'no' as unknown as () => void), { code: 'ERR_INVALID_ARG_TYPE' });
});
