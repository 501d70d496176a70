import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { MessageQueue } from '../src/native';
import { Publisher } from '../src/publisher';
import { pub } from '../src/cli/pub';

// Queues are created by the test, as the daemon would, and unlinked at the end even when a test fails.
const created = new Set<string>();
let serial = 0;

function createQueue(depth = 10, messageSize = 256, mode = 0o600): string {
  const name = `/msgmux-test-${process.pid}-pub-${serial++}`;
  MessageQueue.open(name, { create: true, exclusive: true, depth, messageSize, mode, read: false }).close();
  created.add(name);
  return name;
}

function withQueue<T>(name: string, use: (mq: MessageQueue) => T): T {
  const mq = MessageQueue.open(name);
  try {
    return use(mq);
  } finally {
    mq.close();
  }
}

/** Takes up to `max` messages off the queue, as [text, priority]. */
function drain(name: string, max = Infinity): Array<[string, number]> {
  return withQueue(name, (mq) => {
    const out: Array<[string, number]> = [];
    const buf = Buffer.alloc(mq.attributes().messageSize);
    while (out.length < max) {
      const got = mq.timedReceive(buf, 0);
      if (!got) break;
      out.push([buf.toString('utf8', 0, got.length), got.priority]);
    }
    return out;
  });
}

const curmsgs = (name: string) => withQueue(name, (mq) => mq.attributes().current);
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
async function until(what: string, done: () => boolean): Promise<void> {
  for (let k = 0; !done(); k++) {
    if (k > 20_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

after(() => {
  for (const name of created) {
    try {
      MessageQueue.unlink(name);
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

test('bad options are refused with ERR_MSGMUX_INVALID_ARGUMENT', () => {
  const queue = createQueue();
  assert.throws(() => new Publisher({ queue: 'no-slash' }), { code: 'ERR_MSGMUX_INVALID_ARGUMENT' });
  assert.throws(() => new Publisher({ queue, bufferSize: 3000 }), { code: 'ERR_MSGMUX_INVALID_ARGUMENT', message: /power of two/ });
});

test('publishes text and bytes in call order, with their priority', async () => {
  const queue = createQueue();
  const publisher = new Publisher({ queue });
  assert.equal(publisher.messageSize, 256);
  assert.equal(publisher.depth, 10);
  await publisher.publish('one');
  await publisher.publish(new Uint8Array([0x74, 0x00, 0x77, 0x6f]), 0); // NUL inside survives
  await Promise.all([publisher.publish('three', 3), publisher.publish('')]);
  await publisher.close();
  // the kernel hands out higher priorities first, FIFO within a priority
  assert.deepEqual(drain(queue), [['three', 3], ['one', 0], ['t\0wo', 0], ['', 0]]);
});

test('priorities interleave as the kernel orders them, up to 32767', async () => {
  const queue = createQueue();
  const publisher = new Publisher({ queue });
  await Promise.all([0, 5, 1, 32767, 5, 0, 300].map((p, i) => publisher.publish(`m${i}`, p)));
  await publisher.flush();
  assert.deepEqual(drain(queue), [['m3', 32767], ['m6', 300], ['m1', 5], ['m4', 5], ['m2', 1], ['m0', 0], ['m5', 0]]);
  await assert.rejects(publisher.publish('x', 32768), { code: 'ERR_MSGMUX_INVALID_ARGUMENT' });
  await assert.rejects(publisher.publish('x', 1.5), { code: 'ERR_MSGMUX_INVALID_ARGUMENT' });
  await publisher.close();
});

test('a message larger than the queue takes is refused, and nothing is sent', async () => {
  const queue = createQueue(10, 64);
  const publisher = new Publisher({ queue });
  await assert.rejects(publisher.publish('x'.repeat(65)), { code: 'ERR_MSGMUX_MESSAGE_TOO_LARGE' });
  await assert.rejects(publisher.publish('é'.repeat(33)), { code: 'ERR_MSGMUX_MESSAGE_TOO_LARGE', message: /66 bytes/ });
  await assert.rejects(publisher.publish(new Uint8Array(65)), { code: 'ERR_MSGMUX_MESSAGE_TOO_LARGE' });
  await publisher.publish('x'.repeat(64));
  await publisher.publish('é'.repeat(32));
  await publisher.close();
  assert.deepEqual(drain(queue), [['x'.repeat(64), 0], ['é'.repeat(32), 0]]);
});

test('flush resolves once everything published before it is in the queue', async () => {
  const queue = createQueue(10);
  const publisher = new Publisher({ queue });
  for (let i = 0; i < 7; i++) void publisher.publish(`m${i}`);
  await publisher.flush();
  assert.equal(curmsgs(queue), 7);
  await publisher.close();
});

test('a full queue and a full buffer hold publish back until the queue is drained, and nothing is lost', async () => {
  const queue = createQueue(10);
  const publisher = new Publisher({ queue, bufferSize: 16 << 10 });
  const total = 3000; // ~56 ring bytes each: several times what the buffer and the queue hold
  let resolved = 0;
  const sends = Array.from({ length: total }, (_, i) => publisher.publish(`message ${i}`.padEnd(48, '.')).then(() => void resolved++));
  await until('the queue to fill', () => curmsgs(queue) === 10);
  for (let i = 0; i < 20; i++) await nextTurn();
  assert.ok(resolved < total - 10, `publish waits while the buffer is full (${resolved} of ${total} resolved)`);

  const received: string[] = [];
  let done = false;
  const all = Promise.all(sends).then(() => publisher.close()).then(() => void (done = true));
  while (!done || curmsgs(queue) > 0) {
    received.push(...drain(queue).map(([m]) => m));
    await nextTurn();
  }
  await all;
  assert.deepEqual(received, Array.from({ length: total }, (_, i) => `message ${i}`.padEnd(48, '.')));
});

test('close waits for what was already published, then refuses more', async () => {
  const queue = createQueue(10);
  const publisher = new Publisher({ queue });
  for (let i = 0; i < 12; i++) void publisher.publish(`m${i}`);
  let closed = false;
  const closing = publisher.close().then(() => void (closed = true));
  await until('the queue to fill', () => curmsgs(queue) === 10);
  for (let i = 0; i < 20; i++) await nextTurn();
  assert.equal(closed, false, 'two messages are still waiting for room');
  await assert.rejects(publisher.publish('late'), { code: 'ERR_MSGMUX_CLOSED' });
  const received = drain(queue);
  await closing;
  received.push(...drain(queue));
  assert.equal(received.length, 12);
  assert.deepEqual(received.at(-1), ['m11', 0]);
});

/** Runs a fixture in another process; resolves with its stdout once it has exited by itself with 0. */
async function runFixture(file: string, args: string[]): Promise<string> {
  const child = spawn(process.execPath, [join(__dirname, 'fixtures', file), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${file} exited ${code}`);
  return output;
}

/** A consumer in another process reading through the posix-mq package, like a foreign program; resolves with what it got. */
const consumer = async (queue: string, count: number): Promise<string[]> =>
  JSON.parse(await runFixture('posix-mq-consumer.js', [queue, String(count)])) as string[];

test('a publisher far ahead of a consumer in another process delivers everything in order', { timeout: 60_000 }, async () => {
  const queue = createQueue(10);
  const received = consumer(queue, 5000);
  const publisher = new Publisher({ queue });
  const expected = Array.from({ length: 5000 }, (_, i) => `message ${i}`);
  await Promise.all(expected.map((m) => publisher.publish(m)));
  await publisher.close();
  assert.deepEqual(await received, expected);
});

test('a program that ends without awaiting still delivers; an idle publisher does not keep it alive', { timeout: 60_000 }, async () => {
  const queue = createQueue(10);
  // The child publishes more than the queue holds and never awaits: the process must stay until all is sent.
  const received = consumer(queue, 300);
  await runFixture('publisher-exit.js', [queue, '300']);
  assert.deepEqual(await received, Array.from({ length: 300 }, (_, i) => `m${i}`));
  // Never published to, never closed: the child exits by itself (the test times out otherwise).
  await runFixture('publisher-exit.js', [queue, '0']);
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

test('msgmux pub: stdin is not read further while the queue and the buffer are full', async () => {
  const queue = createQueue(10);
  const chunks = 200; // 200 x 30 lines x 50 bytes: far more than the queue and the publisher's buffer hold
  const lines = Array.from({ length: chunks * 30 }, (_, i) => `line ${i}`.padEnd(49, '.'));
  let chunksRead = 0;
  async function* stdin() {
    for (let i = 0; i < lines.length; i += 30) {
      chunksRead++;
      yield lines.slice(i, i + 30).join('\n') + '\n';
    }
  }
  const publishing = pub({ queue, priority: 0, messages: [] }, stdin());
  await until('the queue to fill', () => curmsgs(queue) === 10);
  for (let i = 0; i < 50; i++) await nextTurn();
  assert.ok(chunksRead < chunks, `reading stops while the bus is full (${chunksRead} of ${chunks} chunks read)`);

  const received: string[] = [];
  let done = false;
  publishing.then(() => void (done = true), () => void (done = true));
  while (!done || curmsgs(queue) > 0) {
    received.push(...drain(queue).map(([m]) => m));
    await nextTurn();
  }
  assert.equal(await publishing, lines.length);
  assert.equal(chunksRead, chunks);
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
