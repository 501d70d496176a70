import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import PosixMQ from 'posix-mq';
import { Publisher, closeMq } from '../src/publisher';
import { pub } from '../src/cli/pub';

// Queues are created by the test, as the daemon would, and unlinked at the end
// even when a test fails. Handles are opened and closed within one turn (an
// open posix-mq handle can spin the event loop) and closed with closeMq (a
// handle collected mid-close crashes): see src/publisher.ts.
const created = new Set<string>();
let serial = 0;

function createQueue(depth = 10, msgsize = 256): string {
  const name = `/msgmux-test-${process.pid}-${serial++}`;
  const mq = new PosixMQ();
  mq.open({ name, create: true, exclusive: true, maxmsgs: depth, msgsize, mode: '0600' });
  created.add(name);
  closeMq(mq);
  return name;
}

function withQueue<T>(name: string, use: (mq: PosixMQ) => T): T {
  const mq = new PosixMQ();
  mq.open({ name });
  try {
    return use(mq);
  } finally {
    closeMq(mq);
  }
}

/** Takes up to `max` messages off the queue, as [text, priority]. */
function drain(name: string, max = Infinity): Array<[string, number]> {
  return withQueue(name, (mq) => {
    const out: Array<[string, number]> = [];
    const buf = Buffer.alloc(mq.msgsize);
    for (let r; out.length < max && (r = mq.shift(buf, true)) !== false; ) out.push([buf.toString('utf8', 0, r[0]), r[1]]);
    return out;
  });
}

const curmsgs = (name: string) => withQueue(name, (mq) => mq.curmsgs);
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

after(() => {
  for (const name of created) {
    try {
      withQueue(name, (mq) => mq.unlink());
    } catch {
      // already gone
    }
  }
});

test('a queue that does not exist: the error says the daemon is not running', () => {
  assert.throws(() => new Publisher({ queue: `/msgmux-test-${process.pid}-absent` }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_MSGMUX_NO_QUEUE');
    assert.match(err.message, /is msgmux running\?/);
    return true;
  });
});

test('publishes text and bytes in call order, with their priority', async () => {
  const queue = createQueue();
  const publisher = new Publisher({ queue });
  assert.equal(publisher.messageSize, 256);
  await publisher.publish('one');
  await publisher.publish(new Uint8Array([0x74, 0x00, 0x77, 0x6f]), 0); // NUL inside survives
  await Promise.all([publisher.publish('three', 3), publisher.publish('')]);
  await publisher.close();
  // the kernel hands out higher priorities first, FIFO within a priority
  assert.deepEqual(drain(queue), [['three', 3], ['one', 0], ['t\0wo', 0], ['', 0]]);
});

test('priorities interleave as the kernel orders them', async () => {
  const queue = createQueue();
  const publisher = new Publisher({ queue });
  await Promise.all([0, 5, 1, 5, 0].map((p, i) => publisher.publish(`m${i}`, p)));
  assert.deepEqual(drain(queue), [['m1', 5], ['m3', 5], ['m2', 1], ['m0', 0], ['m4', 0]]);
});

test('a message larger than the queue takes is refused, and nothing is sent', async () => {
  const queue = createQueue(10, 64);
  const publisher = new Publisher({ queue });
  await assert.rejects(publisher.publish('x'.repeat(65)), { code: 'ERR_MSGMUX_MESSAGE_TOO_LARGE' });
  await assert.rejects(publisher.publish('ok', 32), { code: 'ERR_MSGMUX_INVALID_ARGUMENT' });
  await publisher.publish('x'.repeat(64));
  assert.deepEqual(drain(queue), [['x'.repeat(64), 0]]);
});

test('a full queue blocks publish until it is drained, and nothing is lost', async () => {
  const queue = createQueue(10);
  const publisher = new Publisher({ queue });
  let resolved = 0;
  const sends = Array.from({ length: 25 }, (_, i) => publisher.publish(`m${i}`).then(() => void resolved++));

  await sends[9];
  await nextTurn();
  assert.equal(curmsgs(queue), 10);
  assert.equal(resolved, 10, 'the 11th publish waits while the queue is full');

  const received = drain(queue);
  await sends[19]; // room for ten more: released without another publish call
  assert.equal(resolved, 20);
  received.push(...drain(queue));
  await Promise.all(sends);
  received.push(...drain(queue));
  assert.deepEqual(received.map(([m]) => m), Array.from({ length: 25 }, (_, i) => `m${i}`));
});

test('close waits for what was already published, then refuses more', async () => {
  const queue = createQueue(10);
  const publisher = new Publisher({ queue });
  const sends = Array.from({ length: 12 }, (_, i) => publisher.publish(`m${i}`));
  let closed = false;
  const closing = publisher.close().then(() => void (closed = true));
  await sends[9];
  await nextTurn();
  assert.equal(closed, false, 'two messages are still waiting for room');
  await assert.rejects(publisher.publish('late'), { code: 'ERR_MSGMUX_CLOSED' });
  const received = drain(queue);
  await closing;
  received.push(...drain(queue));
  assert.equal(received.length, 12);
  assert.deepEqual(received.at(-1), ['m11', 0]);
});

/** A consumer in another process, like the daemon (test/fixtures/posix-mq-consumer.ts); resolves with what it got. */
function consumer(queue: string, count: number): Promise<string[]> {
  const child = spawn(process.execPath, [join(__dirname, 'fixtures', 'posix-mq-consumer.js'), queue, String(count)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(output) as string[]) : reject(new Error(`consumer exited ${code}`))));
  });
}

test('a publisher far ahead of a consumer in another process delivers everything in order', { timeout: 60_000 }, async () => {
  const queue = createQueue(10);
  const received = consumer(queue, 2000);
  const publisher = new Publisher({ queue });
  const expected = Array.from({ length: 2000 }, (_, i) => `message ${i}`);
  await Promise.all(expected.map((m) => publisher.publish(m)));
  assert.deepEqual(await received, expected);
});

test('msgmux pub: arguments, then stdin lines including a last line without newline', async () => {
  const queue = createQueue(10);
  assert.equal(await pub({ queue, priority: 2, messages: ['hello', 'world'] }), 2);
  assert.deepEqual(drain(queue), [['hello', 2], ['world', 2]]);

  async function* stdin() {
    yield Buffer.from('first\r\nsec');
    yield 'ond\n\nlast';
  }
  assert.equal(await pub({ queue, priority: 0, messages: [] }, stdin()), 4);
  assert.deepEqual(drain(queue).map(([m]) => m), ['first', 'second', '', 'last']);
});

test('msgmux pub: stdin is not read further while the queue is full', async () => {
  const queue = createQueue(10);
  const lines = Array.from({ length: 60 }, (_, i) => `line ${i}`);
  let chunksRead = 0;
  async function* stdin() {
    for (let i = 0; i < lines.length; i += 30) {
      chunksRead++;
      yield lines.slice(i, i + 30).join('\n') + '\n';
    }
  }
  const publishing = pub({ queue, priority: 0, messages: [] }, stdin());
  while (curmsgs(queue) < 10) await nextTurn();
  for (let i = 0; i < 5; i++) await nextTurn();
  assert.equal(chunksRead, 1, 'the second chunk waits until the first is in the queue');

  const received: string[] = [];
  let done = false;
  publishing.then(() => void (done = true), () => void (done = true));
  while (!done || curmsgs(queue) > 0) {
    received.push(...drain(queue).map(([m]) => m));
    await nextTurn();
  }
  assert.equal(await publishing, 60);
  assert.equal(chunksRead, 2);
  assert.deepEqual(received, lines);
});

test('msgmux pub: a line longer than the queue takes is an error naming the line', async () => {
  const queue = createQueue(10, 16);
  async function* stdin() {
    yield 'short\n' + 'y'.repeat(40);
  }
  await assert.rejects(pub({ queue, priority: 0, messages: [] }, stdin()), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'ERR_MSGMUX_MESSAGE_TOO_LARGE');
    assert.match(err.message, /line 2 /);
    return true;
  });
  assert.deepEqual(drain(queue), [['short', 0]]);
});
