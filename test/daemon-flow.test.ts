/**
 * Flow control end to end: publishers block when nobody listens, a slow
 * gating sink pushes back on publishers, an evict sink is cut loose, and
 * SIGTERM delivers everything that was taken off the queue.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DgramSocket } from 'msgmux/native';
import { controlCall } from '../src/control-client';
import { daemonSetup, daemonStats as stats, lines, logged, statsWhen, uniqueName, type DaemonSetup, type Proc } from './helpers/daemon';

/** `msgmux pub` in the background, so the test can watch it block. */
const publisher = (setup: DaemonSetup, messages: string[]): Proc =>
  setup.run(['pub', '--queue', setup.queue], { input: messages.map((m) => m + '\n').join('') });

test('with no sink a publisher blocks once the queue is full, and is released when a sink registers', async (t) => {
  const setup = daemonSetup(t);
  const { control } = setup;
  // The bus queue's own backpressure: without packing, the publisher writes there (with it, the packed queue fills the same way).
  const daemon = await setup.startDaemon(['--no-packing']);
  const pub = publisher(setup, lines('m', 30));

  const full = await statsWhen(control, 'the queue to fill', (s) => s.queue.waiting === s.queue.depth);
  assert.equal(full.ingested, 0, 'nothing was taken off the queue');
  assert.equal(full.ingest, 'waiting for a sink');
  assert.equal(pub.child.exitCode, null, 'the publisher is blocked, not finished');

  const sink = await setup.startSink(['--bind', `@${uniqueName('sink')}`, '--register', control, '--expect', '30']);
  assert.equal(await pub.exited, 0);
  assert.deepEqual((await sink.result()).received, lines('m', 30));
  assert.equal(await daemon.stop(), 0);
});

test('a hung block sink pushes back on publishers; once it is gone, everything flows to the rest', async (t) => {
  const setup = daemonSetup(t);
  const { control } = setup;
  const daemon = await setup.startDaemon(['--ring-size', '64K', '--no-packing']); // the bus queue fills: see above
  const hungName = `@${uniqueName('hung')}`;
  const hung = await setup.startSink(['--bind', hungName, '--register', control, '--hang']);
  const healthy = await setup.startSink(['--bind', `@${uniqueName('healthy')}`, '--register', control, '--expect', '3000']);
  const messages = lines('m', 3000, 100);
  const pub = publisher(setup, messages);

  // The hung sink's socket fills, the ring fills behind it, then the queue: the publisher waits. Ingest may
  // take messages off the queue until the ring is full, so only states where it says it waits for room are
  // compared: from then on the hung sink never reads, so its cursor, and with it ingest, cannot move.
  const blocked = (s: Awaited<ReturnType<typeof stats>>) =>
    s.ingest === 'waiting for the slowest sink' && s.queue.waiting === s.queue.depth && s.sinks.some((sink) => sink.path === hungName && sink.lag > 32 << 10);
  const stuck = await statsWhen(control, 'the backpressure to reach the queue', blocked);
  assert.ok(stuck.ingested < 3000);
  assert.equal(pub.child.exitCode, null, 'the publisher is held back');
  const later = await stats(control);
  assert.ok(blocked(later), `ingest still waits for room: ${JSON.stringify(later)}`);
  assert.equal(later.ingested, stuck.ingested, 'nothing more is taken off the queue while the ring is full');

  hung.child.kill('SIGKILL');
  await daemon.waitFor(logged('sink went away; removed'), 'the hung sink to be removed');
  assert.equal(await pub.exited, 0);
  assert.deepEqual((await healthy.result()).received, messages);
  assert.equal(await daemon.stop(), 0);
});

test('an evict sink that stalls past its budget is evicted and logged; the others get everything', async (t) => {
  const setup = daemonSetup(t);
  const { control } = setup;
  const daemon = await setup.startDaemon(['--ring-size', '64K']);
  const stalled = `@${uniqueName('stalled')}`;
  await setup.startSink(['--bind', stalled, '--hang']);
  await controlCall(control, { op: 'subscribe', path: stalled, policy: 'evict', evictAfterMs: 200 });
  const healthy = await setup.startSink(['--bind', `@${uniqueName('healthy')}`, '--register', control, '--expect', '3000']);

  const messages = lines('m', 3000, 100);
  const pub = publisher(setup, messages);
  assert.deepEqual((await healthy.result()).received, messages);
  assert.equal(await pub.exited, 0);
  const line = JSON.parse(await daemon.waitFor(logged('sink stalled past its budget; evicted'), 'the eviction')) as { sink: string };
  assert.equal(line.sink, stalled);
  assert.deepEqual((await stats(control)).sinks.map((sink) => sink.policy), ['block'], 'the evicted sink is gone');
  assert.equal(await daemon.stop(), 0);
});

test('SIGTERM delivers everything taken off the queue to a slow sink, leaves the rest queued, and exits 0', async (t) => {
  const setup = daemonSetup(t);
  const { control } = setup;
  const daemon = await setup.startDaemon();
  const slowName = `@${uniqueName('slow')}`;
  const sink = await setup.startSink(['--bind', slowName, '--register', control, '--slow', '20', '--until', 'end']);
  const messages = lines('m', 3000);
  const pub = publisher(setup, messages);
  assert.equal(await pub.exited, 0);

  daemon.child.kill('SIGTERM');
  assert.equal(await daemon.exited, 0);
  // Sent once the daemon is gone, so it lands after everything the daemon delivered.
  const probe = new DgramSocket();
  t.after(() => probe.close());
  probe.send(Buffer.from('end'), slowName);
  const stopped = JSON.parse(daemon.stderr.find(logged('stopped'))!) as { ingested: number; abandoned: number; queueWaiting: number };
  assert.equal(stopped.abandoned, 0);
  assert.equal(stopped.ingested + stopped.queueWaiting, 3000, 'each message was either ingested or is still queued');
  const { received } = await sink.result();
  assert.deepEqual(received, messages.slice(0, stopped.ingested), 'every ingested message was delivered, in order');
});
