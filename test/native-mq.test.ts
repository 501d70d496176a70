/**
 * MessageQueue against real POSIX message queues at the default depth (10):
 * priorities, timeouts, batches into a SharedArrayBuffer, attributes, every
 * error path, and a blocking receive in a worker thread.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { MessageQueue } from '../src/native';
import { Cleanup, queueName, startWorker, unlinkQuietly } from './helpers/native';

const SIZE = 64;

/** Worker side: receive `count` messages, blocking this thread, and report them. */
function receiveInWorker(task: { name: string; count: number }): void {
  const q = MessageQueue.open(task.name, { read: true, write: false });
  const into = new Uint8Array(SIZE);
  const got: string[] = [];
  for (let i = 0; i < task.count; i++) {
    const m = q.timedReceive(into, 30_000);
    if (m === null) break;
    got.push(`${m.priority}:${Buffer.from(into.subarray(0, m.length)).toString()}`);
  }
  q.close();
  parentPort!.postMessage({ result: got });
}

if (!isMainThread) {
  receiveInWorker(workerData as { name: string; count: number });
} else {
  const cleanup = new Cleanup();
  after(() => cleanup.run());

  /** A fresh queue, closed and unlinked after the tests whatever happens. */
  function freshQueue(opts: Parameters<typeof MessageQueue.open>[1] = {}): MessageQueue {
    const name = queueName();
    cleanup.defer(unlinkQuietly(MessageQueue.unlink, name));
    return cleanup.closes(MessageQueue.open(name, { create: true, exclusive: true, depth: 10, messageSize: SIZE, ...opts }));
  }
  const text = (s: string) => Buffer.from(s);

  test('round trip: higher priority first, FIFO within a priority', () => {
    const q = freshQueue();
    const sends: [string, number][] = [['a', 1], ['b', 5], ['c', 3], ['d', 5], ['e', 0], ['f', 3]];
    for (const [body, priority] of sends) q.send(text(body), priority);
    const into = new Uint8Array(SIZE);
    const got: string[] = [];
    for (let i = 0; i < sends.length; i++) {
      const m = q.receive(into);
      got.push(`${m.priority}:${Buffer.from(into.subarray(0, m.length)).toString()}`);
    }
    assert.deepEqual(got, ['5:b', '5:d', '3:c', '3:f', '1:a', '0:e']);
  });

  test('attributes report depth, message size, current count and mode', () => {
    const q = freshQueue({ depth: 7, messageSize: 32 });
    q.send(text('x'));
    assert.deepEqual(q.attributes(), { depth: 7, messageSize: 32, current: 1, nonBlocking: false });
    q.setNonBlocking(true);
    assert.equal(q.attributes().nonBlocking, true);
    assert.ok(q.fd >= 0);
    q.close();
    q.close();
    assert.equal(q.fd, -1);
  });

  test('timed calls: timedReceive gives null on an empty queue, timedSend false on a full one (depth 10)', () => {
    const q = freshQueue();
    const into = new Uint8Array(SIZE);
    assert.equal(q.timedReceive(into, 0), null);
    assert.equal(q.timedReceive(into, 20), null);
    for (let i = 0; i < 10; i++) assert.equal(q.timedSend(text(`m${i}`), 0, 0), true);
    assert.equal(q.timedSend(text('overflow'), 0, 20), false);
    assert.equal(q.attributes().current, 10);
  });

  test('receiveBatch: waits for the first, then takes what is queued, into a SharedArrayBuffer at an offset', () => {
    const q = freshQueue();
    const shared = new SharedArrayBuffer(16 + SIZE * 8);
    const lengths = new Int32Array(8);
    const priorities = new Int32Array(8);
    assert.equal(q.receiveBatch(shared, 16, SIZE, 8, lengths, priorities, 10), 0, 'nothing arrived in time');
    for (let i = 0; i < 5; i++) q.send(text('#'.repeat(i + 1)), i % 2);
    assert.equal(q.receiveBatch(shared, 16, SIZE, 8, lengths, priorities, 1000), 5);
    assert.deepEqual([...lengths.subarray(0, 5)], [2, 4, 1, 3, 5]);
    assert.deepEqual([...priorities.subarray(0, 5)], [1, 1, 0, 0, 0]);
    assert.equal(new Uint8Array(shared)[16 + SIZE], '#'.charCodeAt(0));
    for (let i = 0; i < 3; i++) q.send(text('z'));
    assert.equal(q.receiveBatch(new Uint8Array(shared), 0, SIZE, 2, lengths, null, -1), 2, 'stops at max');
    assert.equal(q.attributes().current, 1);
  });

  test('a worker blocked in timedReceive gets what the main thread sends, in priority order', async () => {
    const q = freshQueue();
    const run = startWorker<string[]>(__filename, { name: q.name, count: 3 });
    q.send(text('low'), 1);
    q.send(text('high'), 9);
    q.send(text('mid'), 4);
    const got = await run.result;
    assert.equal(got.length, 3);
    assert.deepEqual([...got].sort(), ['1:low', '4:mid', '9:high']);
  });

  test('errors carry the errno name, the syscall and the queue name', () => {
    const missing = queueName();
    assert.throws(() => MessageQueue.open(missing), {
      code: 'ENOENT', syscall: 'mq_open', address: missing, message: `mq_open ${missing}: ENOENT (No such file or directory)`,
    });
    assert.throws(() => MessageQueue.unlink(missing), { code: 'ENOENT', syscall: 'mq_unlink' });
    const q = freshQueue({ nonBlocking: true });
    assert.throws(() => MessageQueue.open(q.name, { create: true, exclusive: true }), { code: 'EEXIST', syscall: 'mq_open' });
    assert.throws(() => q.receive(new Uint8Array(SIZE)), { code: 'EAGAIN', syscall: 'mq_receive', address: q.name });
    assert.throws(() => q.send(new Uint8Array(SIZE + 1)), { code: 'EMSGSIZE', syscall: 'mq_send' });
    q.send(text('x'));
    assert.throws(() => q.receive(new Uint8Array(SIZE - 1)), { code: 'EMSGSIZE', syscall: 'mq_receive' });
    for (let i = 1; i < 10; i++) q.send(text('x'));
    assert.throws(() => q.send(text('full')), { code: 'EAGAIN', syscall: 'mq_send' });
    const tooDeep = queueName();
    cleanup.defer(unlinkQuietly(MessageQueue.unlink, tooDeep));
    assert.throws(() => MessageQueue.open(tooDeep, { create: true, depth: 100_000, messageSize: SIZE }), {
      code: 'EINVAL', syscall: 'mq_open',
    });
    assert.throws(() => MessageQueue.open('no-leading-slash', { create: true }), { code: 'EINVAL' });
    assert.throws(() => MessageQueue.open(`${queueName()}/nested`, { create: true }), { code: 'EACCES' });
    const readOnly = cleanup.closes(MessageQueue.open(q.name, { write: false }));
    assert.throws(() => readOnly.send(text('x')), { code: 'EBADF', syscall: 'mq_send' });
    q.close();
    assert.throws(() => q.attributes(), { code: 'EBADF', syscall: 'mq_getattr' });
  });
}
