/**
 * Flow control end to end: publishers block when nobody listens, a slow
 * gating sink pushes back on publishers, an evict sink is cut loose, and
 * SIGTERM delivers everything that was taken off the queue.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controlCall } from '../src/control-client';
import { BIN, cleanup, daemonStats as stats, lines, logged, run, startDaemon, startSink, statsWhen, uniqueName, type Proc } from './helpers/daemon';

function names(t: { after(fn: () => void): void }) {
  const queue = `/${uniqueName('q')}`;
  const control = `@${uniqueName('ctl')}`;
  const procs: Proc[] = [];
  t.after(() => cleanup(procs, [queue]));
  return { queue, control, procs };
}

/** `msgmux pub` in the background, so the test can watch it block. */
const publisher = (queue: string, messages: string[]): Proc =>
  run(BIN, ['pub', '--queue', queue], { input: messages.map((m) => m + '\n').join('') });

test('with no sink a publisher blocks once the queue is full, and is released when a sink registers', async (t) => {
  const { queue, control, procs } = names(t);
  const daemon = await startDaemon(queue, control);
  procs.push(daemon);
  const pub = publisher(queue, lines('m', 30));
  procs.push(pub);

  const full = await statsWhen(control, 'the queue to fill', (s) => s.queue.waiting === s.queue.depth);
  assert.equal(full.ingested, 0, 'nothing was taken off the queue');
  assert.equal(full.ingest, 'waiting for a sink');
  assert.equal(pub.child.exitCode, null, 'the publisher is blocked, not finished');

  const sink = await startSink(['--bind', `@${uniqueName('sink')}`, '--register', control, '--expect', '30']);
  procs.push(sink);
  assert.equal(await pub.exited, 0);
  assert.deepEqual((await sink.result()).received, lines('m', 30));
  assert.equal(await daemon.stop(), 0);
});

test('a hung block sink pushes back on publishers; once it is gone, everything flows to the rest', async (t) => {
  const { queue, control, procs } = names(t);
  const daemon = await startDaemon(queue, control, ['--ring-size', '64K']);
  procs.push(daemon);
  const hung = await startSink(['--bind', `@${uniqueName('hung')}`, '--register', control, '--hang']);
  const healthy = await startSink(['--bind', `@${uniqueName('healthy')}`, '--register', control, '--expect', '3000']);
  procs.push(hung, healthy);
  const messages = lines('m', 3000, 100);
  const pub = publisher(queue, messages);
  procs.push(pub);

  // The hung sink's socket fills, the ring fills behind it, then the queue: the publisher waits.
  const stuck = await statsWhen(control, 'the backpressure to reach the queue', (s) => s.queue.waiting === s.queue.depth && s.sinks.some((sink) => sink.lag > 32 << 10));
  assert.equal(pub.child.exitCode, null, 'the publisher is held back');
  assert.ok(stuck.ingested < 3000);
  const waiting = await statsWhen(control, 'ingest to wait for room', (s) => s.ingest === 'waiting for the slowest sink');
  assert.equal(waiting.ingested, stuck.ingested, 'nothing more is taken off the queue while the ring is full');

  hung.child.kill('SIGKILL');
  await daemon.waitFor(logged('sink went away; removed'), 'the hung sink to be removed');
  assert.equal(await pub.exited, 0);
  assert.deepEqual((await healthy.result()).received, messages);
  assert.equal(await daemon.stop(), 0);
});

test('an evict sink that stalls past its budget is evicted and logged; the others get everything', async (t) => {
  const { queue, control, procs } = names(t);
  const daemon = await startDaemon(queue, control, ['--ring-size', '64K']);
  procs.push(daemon);
  const stalled = `@${uniqueName('stalled')}`;
  const staller = await startSink(['--bind', stalled, '--hang']);
  procs.push(staller);
  await controlCall(control, { op: 'subscribe', path: stalled, policy: 'evict', evictAfterMs: 200 });
  const healthy = await startSink(['--bind', `@${uniqueName('healthy')}`, '--register', control, '--expect', '3000']);
  procs.push(healthy);

  const messages = lines('m', 3000, 100);
  const pub = publisher(queue, messages);
  procs.push(pub);
  assert.deepEqual((await healthy.result()).received, messages);
  assert.equal(await pub.exited, 0);
  const line = JSON.parse(await daemon.waitFor(logged('sink stalled past its budget; evicted'), 'the eviction')) as { sink: string };
  assert.equal(line.sink, stalled);
  assert.deepEqual((await stats(control)).sinks.map((sink) => sink.policy), ['block'], 'the evicted sink is gone');
  assert.equal(await daemon.stop(), 0);
});

test('SIGTERM delivers everything taken off the queue to a slow sink, leaves the rest queued, and exits 0', async (t) => {
  const { queue, control, procs } = names(t);
  const daemon = await startDaemon(queue, control);
  procs.push(daemon);
  const sink = await startSink(['--bind', `@${uniqueName('slow')}`, '--register', control, '--slow', '20', '--expect', '3000', '--idle', '2000']);
  procs.push(sink);
  const messages = lines('m', 3000);
  const pub = publisher(queue, messages);
  procs.push(pub);
  assert.equal(await pub.exited, 0);

  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  const stopped = JSON.parse(daemon.stderr.find(logged('stopped'))!) as { ingested: number; abandoned: number; queueWaiting: number };
  assert.equal(stopped.abandoned, 0);
  assert.equal(stopped.ingested + stopped.queueWaiting, 3000, 'each message was either ingested or is still queued');
  const { received } = await sink.result();
  assert.deepEqual(received, messages.slice(0, stopped.ingested), 'every ingested message was delivered, in order');
});
