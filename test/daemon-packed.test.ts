/**
 * Packed publishing, end to end: frames on the packed queue are delivered
 * as their messages, one by one; the bus queue is delivered verbatim, even
 * a message that is byte for byte a frame.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DgramSocket, MessageQueue } from 'msgmux/native';
import { controlCall } from '../src/control-client';
import { FrameWriter, packedQueueName } from '../src/wire';
import { cleanup, startDaemon, statsWhen, uniqueName, type Proc } from './helpers/daemon';

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
