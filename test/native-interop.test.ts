/**
 * Interop with independent implementations, on the main thread only (neither
 * npm package is worker-safe): a `unix-dgram` socket and the binding exchange
 * datagrams over a filesystem path, and `posix-mq` and the binding read each
 * other's queues.
 */
import PosixMQ from 'posix-mq';
import { closeMq } from './helpers/posix-mq';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { DgramSocket, MessageQueue } from '../src/native';
import { Cleanup, queueName, unlinkQuietly, waitUntil } from './helpers/native';

interface UnixDgramSocket {
  bind(path: string): void;
  send(buf: Buffer, offset: number, length: number, path: string, callback?: (err?: Error) => void): void;
  on(event: 'message', listener: (buf: Buffer) => void): this;
  on(event: 'error', listener: (err: Error) => void): this;
  close(): void;
}
interface UnixDgram {
  createSocket(type: 'unix_dgram', listener?: (buf: Buffer) => void): UnixDgramSocket;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const unixDgram = require('unix-dgram') as UnixDgram;

const cleanup = new Cleanup();
after(() => cleanup.run());

test('a unix-dgram socket receives what the binding sends, and the binding receives its replies', async () => {
  const dir = cleanup.tempDir();
  const theirPath = path.join(dir, 'unix-dgram.sock');
  const ourPath = path.join(dir, 'binding.sock');
  const received: string[] = [];
  const theirs = unixDgram.createSocket('unix_dgram', (buf) => received.push(buf.toString()));
  cleanup.defer(() => theirs.close());
  const bindErrors: Error[] = [];
  theirs.on('error', (err) => bindErrors.push(err));
  theirs.bind(theirPath); // synchronous: emits 'listening' or 'error' before returning
  assert.deepEqual(bindErrors, []);

  const ours = cleanup.closes(new DgramSocket());
  ours.bind(ourPath);
  for (let i = 0; i < 5; i++) ours.send(Buffer.from(`hello ${i}`), theirPath);
  const offsets = Int32Array.of(0, 5);
  const lengths = Int32Array.of(5, 5);
  ours.sendBatch(Buffer.from('batchbatch'), offsets, lengths, 2, theirPath);
  await waitUntil(() => received.length >= 7);
  assert.deepEqual(received, ['hello 0', 'hello 1', 'hello 2', 'hello 3', 'hello 4', 'batch', 'batch']);

  const reply = Buffer.from('from unix-dgram');
  await new Promise<void>((resolve, reject) =>
    theirs.send(reply, 0, reply.length, ourPath, (err) => (err ? reject(err) : resolve())),
  );
  const into = new Uint8Array(64);
  assert.ok(ours.poll({ readable: true }, 30_000).readable);
  const got = ours.recv(into);
  assert.equal(Buffer.from(into.subarray(0, got.length)).toString(), 'from unix-dgram');
});

test('a queue written by posix-mq is read by the binding, priorities included', () => {
  const name = queueName();
  cleanup.defer(unlinkQuietly(MessageQueue.unlink, name));
  const theirs = new PosixMQ();
  theirs.open({ name, create: true, mode: '0600', maxmsgs: 10, msgsize: 64 });
  // Through closeMq: a posix-mq handle collected before libuv finished closing it crashes the process.
  cleanup.defer(() => closeMq(theirs));
  assert.equal(theirs.push(Buffer.from('low'), 1), true);
  assert.equal(theirs.push(Buffer.from('high'), 7), true);

  const ours = cleanup.closes(MessageQueue.open(name, { write: false }));
  assert.deepEqual(ours.attributes(), { depth: 10, messageSize: 64, current: 2, nonBlocking: false });
  const into = new Uint8Array(64);
  const first = ours.receive(into);
  assert.deepEqual([first.priority, Buffer.from(into.subarray(0, first.length)).toString()], [7, 'high']);
  const second = ours.receive(into);
  assert.deepEqual([second.priority, Buffer.from(into.subarray(0, second.length)).toString()], [1, 'low']);
});

test('a queue created and written by the binding is read by posix-mq', () => {
  const name = queueName();
  cleanup.defer(unlinkQuietly(MessageQueue.unlink, name));
  const ours = cleanup.closes(MessageQueue.open(name, { create: true, exclusive: true, depth: 10, messageSize: 64 }));
  ours.send(Buffer.from('first'), 0);
  ours.send(Buffer.from('urgent'), 3);
  const theirs = new PosixMQ();
  theirs.open({ name });
  // Through closeMq: a posix-mq handle collected before libuv finished closing it crashes the process.
  cleanup.defer(() => closeMq(theirs));
  const into = Buffer.alloc(64);
  const got: string[] = [];
  for (let r = theirs.shift(into, true); r !== false; r = theirs.shift(into, true)) {
    got.push(`${r[1]}:${into.toString('utf8', 0, r[0])}`);
  }
  assert.deepEqual(got, ['3:urgent', '0:first']);
});
