/**
 * Packed publishing, end to end: frames on the packed queue are delivered
 * as their messages, one by one; the bus queue is delivered verbatim, even
 * a message that is byte for byte a frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DgramSocket, MessageQueue } from 'msgmux/native';
import { controlCall } from '../src/control-client';
import { Publisher } from '../src/publisher';
import { Subscriber } from '../src/subscriber';
import { decodeFrame, FrameIndex, FrameWriter, packedQueueName } from '../src/wire';
import { cleanup, daemonSetup, eventually, startDaemon, statsWhen, uniqueName, type Proc } from './helpers/daemon';

const text = (...words: string[]): Uint8Array[] => words.map((w) => new Uint8Array(Buffer.from(w)));

function frameOf(messages: Uint8Array[]): Uint8Array {
  const writer = new FrameWriter(new Uint8Array(1024));
  assert.equal(writer.frameArrays(0, 1024, messages, 0), messages.length);
  return writer.out.slice(0, writer.bytes);
}

test('packed messages arrive one by one; a bus-queue message that looks packed arrives verbatim; a bad frame is dropped', async (t) => {
  const queue = `/${uniqueName('q')}`;
  const control = `@${uniqueName('ctl')}`;
  const procs: Proc[] = [];
  const sink = new DgramSocket({ nonBlocking: true });
  const name = `@${uniqueName('sink')}`;
  t.after(() => {
    sink.close();
    cleanup(procs, [queue]);
  });
  sink.bind(name);
  const daemon = await startDaemon(queue, control, ['--max-message', '1024']);
  procs.push(daemon);
  await controlCall(control, { op: 'subscribe', path: name });
  const stats = await statsWhen(control, 'the sink listed', (s) => s.sinks.length === 1);
  assert.deepEqual(stats.packing, { queue: packedQueueName(queue), frameVersion: 1 }, 'the daemon says where to send packed messages');

  const bus = MessageQueue.open(queue, { read: false, write: true });
  const packed = MessageQueue.open(packedQueueName(queue), { read: false, write: true });
  t.after(() => {
    bus.close();
    packed.close();
  });
  // Frames larger than the bus queue's messages (many small messages to a frame, and always room for its largest),
  // in fewer slots: about the bus queue's bytes (depth 10 x 1024 here), at least 4 frames.
  assert.deepEqual(
    { depth: packed.attributes().depth, messageSize: packed.attributes().messageSize },
    { depth: 4, messageSize: 8192 },
  );
  const lookalike = frameOf(text('x', 'y'));
  packed.send(frameOf(text('a', 'bb', 'ccc')));
  packed.send(Uint8Array.of(9, 9, 9, 9, 9)); // not a frame: dropped whole
  await statsWhen(control, 'the packed messages ingested', (s) => s.ingested === 3);
  bus.send(lookalike);
  await statsWhen(control, 'the bus message ingested', (s) => s.ingested === 4);
  packed.send(frameOf(text('after')));
  await statsWhen(control, 'all delivered', (s) => s.sinks[0].delivered === 5);

  const received: Uint8Array[] = [];
  const buffer = new Uint8Array(2048);
  for (;;) {
    try {
      received.push(buffer.slice(0, sink.recv(buffer).length));
    } catch {
      break;
    }
  }
  assert.deepEqual(received, [...text('a', 'bb', 'ccc'), lookalike, ...text('after')]);
  assert.equal(await daemon.stop(), 0);
  assert.ok(daemon.stderr.some((line) => line.includes('"malformedPacked":1')), 'the dropped packed message is reported at stop');
});

test('with packing off the daemon makes no packed queue and says so', async (t) => {
  const queue = `/${uniqueName('q')}`;
  const control = `@${uniqueName('ctl')}`;
  const procs: Proc[] = [];
  t.after(() => cleanup(procs, [queue]));
  const daemon = await startDaemon(queue, control, ['--no-packing']);
  procs.push(daemon);
  const stats = await statsWhen(control, 'stats', () => true);
  assert.equal(stats.packing, null);
  assert.throws(() => MessageQueue.open(packedQueueName(queue), { read: false, write: true }), { code: 'ENOENT' });
  assert.equal(await daemon.stop(), 0);
});

test('a packed queue an earlier daemon left with small frames is used as it is: a Publisher packs what fits and sends the largest messages unpacked, all in order', async (t) => {
  const queue = `/${uniqueName('q')}`;
  const control = `@${uniqueName('ctl')}`;
  const procs: Proc[] = [];
  const sink = new DgramSocket({ nonBlocking: true });
  const name = `@${uniqueName('sink')}`;
  let publisher: Publisher | null = null;
  t.after(async () => {
    await publisher?.close().catch(() => undefined);
    sink.close();
    cleanup(procs, [queue]);
  });
  sink.bind(name);
  // As an earlier daemon made it: frames no larger than the bus queue's messages, so a 1024-byte message fits none.
  MessageQueue.open(packedQueueName(queue), { create: true, depth: 10, messageSize: 1024, mode: 0o600, read: true, write: false }).close();
  const daemon = await startDaemon(queue, control, ['--max-message', '1024']);
  procs.push(daemon);
  assert.ok(daemon.stderr.some((line) => line.includes('the packed queue already existed with frames of 1024 bytes')), 'the daemon says the old shape stays');

  publisher = new Publisher({ queue });
  const count = 2000;
  const message = (k: number): Uint8Array => {
    const bytes = new Uint8Array(k % 100 === 50 ? 1024 : 8 + (k % 50)); // every 100th is the queue's largest: fits no frame, sent unpacked
    new DataView(bytes.buffer).setUint32(0, k, true);
    return bytes;
  };
  for (let k = 0; k < count; k++) void publisher.publish(message(k));
  // With no sink the daemon reads nothing: what the publisher sent so far waits in the packed queue.
  const packedQueue = MessageQueue.open(packedQueueName(queue), { read: false, write: true });
  t.after(() => packedQueue.close());
  await eventually('frames in the packed queue', async () => (packedQueue.attributes().current > 0 ? true : undefined));
  await controlCall(control, { op: 'subscribe', path: name, framing: 'coalesced' });
  await publisher.flush();
  // Everything in the ring; the sink's socket holds a few datagrams at a time, so read it now.
  await statsWhen(control, 'all ingested', (s) => s.ingested === count);

  const got: number[] = [];
  const sizes: number[] = [];
  const buffer = new Uint8Array(70_000);
  const index = new FrameIndex();
  const deadline = Date.now() + 60_000;
  while (got.length < count && Date.now() < deadline) {
    let length: number;
    try {
      length = sink.recv(buffer).length;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 2));
      continue;
    }
    index.clear();
    decodeFrame(buffer, 0, length, index);
    for (let k = 0; k < index.count; k++) {
      got.push(new DataView(buffer.buffer, index.offsets[k]).getUint32(0, true));
      sizes.push(index.lengths[k]);
    }
  }
  assert.deepEqual(got, Array.from({ length: count }, (_, k) => k), 'every message once, in publish order');
  assert.deepEqual(sizes, Array.from({ length: count }, (_, k) => message(k).length));
  assert.equal(await daemon.stop(), 0);
});

test('a lone message is sent by the publishing thread itself; lone messages and bursts interleaved arrive once each, in order', async (t) => {
  let publisher: Publisher | null = null;
  let subscriber: Subscriber | null = null;
  t.after(async () => {
    await publisher?.close().catch(() => undefined);
    await subscriber?.close().catch(() => undefined);
  });
  const { queue, control, startDaemon } = daemonSetup(t); // its cleanup after the clients'
  await startDaemon(['--max-message', '1024']);
  publisher = new Publisher({ queue });
  void publisher.publish('first');
  await publisher.flush(); // the sending thread is up (it sent 'first'): a lone message may skip it from now on
  const packedQueue = MessageQueue.open(packedQueueName(queue), { read: false, write: true });
  t.after(() => packedQueue.close());
  await new Promise((resolve) => setTimeout(resolve, 5));
  void publisher.publish('lone');
  assert.equal(publisher.sentDirectly, 1, 'the lone message was sent by this thread');
  assert.equal(packedQueue.attributes().current, 2, "the lone message is in the packed queue (behind 'first') when publish() returns");

  subscriber = await Subscriber.connect({ control, policy: 'block' });
  const expected = ['first', 'lone'];
  for (let round = 0; round < 40; round++) {
    for (let k = 0; k <= round % 7; k++) {
      const text = `r${round}m${k}`;
      expected.push(text);
      void publisher.publish(text);
    }
    await new Promise((resolve) => setTimeout(resolve, 1 + (round % 3)));
  }
  await publisher.flush();
  assert.ok(publisher.sentDirectly > 1 && publisher.sentDirectly < expected.length - 1, `some went directly, the rest through the sending thread (${publisher.sentDirectly} of ${expected.length})`);
  const got: string[] = [];
  for await (const message of subscriber) {
    got.push(Buffer.from(message).toString());
    if (got.length === expected.length) break;
  }
  assert.deepEqual(got, expected);
});
