/**
 * The daemon when sinks misbehave or come and go, and when the daemon itself
 * restarts: real processes, real sockets and queues.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { daemonSetup, daemonStats as stats, lines, logged, publish, statsWhen, uniqueName } from './helpers/daemon';

function setup(t: { after(fn: () => void): void }) {
  const test = daemonSetup(t);
  return { ...test, staticPath: path.join(test.dir, 'static.sock') };
}

test('a sink killed mid-stream is removed, and the others get everything', async (t) => {
  const { queue, control, startDaemon, startSink } = setup(t);
  const daemon = await startDaemon();
  const doomed = await startSink(['--bind', `@${uniqueName('doomed')}`, '--register', control, '--die-after', '200']);
  const survivor = await startSink(['--bind', `@${uniqueName('survivor')}`, '--register', control, '--expect', '3000']);

  await publish(queue, lines('m', 3000));
  assert.deepEqual((await survivor.result()).received, lines('m', 3000));
  assert.equal(await doomed.exited, 3, 'the doomed sink died without unsubscribing');
  await daemon.waitFor(logged('sink went away; removed'), 'the dead sink to be removed');
  const after = await stats(control);
  assert.equal(after.sinks.length, 1, 'only the survivor is left');
  assert.equal(after.sinks[0].delivered, 3000);
  assert.equal(await daemon.stop(), 0);
});

test('a static sink whose socket disappears and comes back resumes, and loses nothing while it was the only sink', async (t) => {
  const { queue, control, staticPath, startDaemon, startSink } = setup(t);
  const first = await startSink(['--bind', staticPath, '--expect', '100']);
  // Counts messages left in the bus queue: publishers must not pack.
  const daemon = await startDaemon(['--sink', staticPath, '--no-packing']);

  await publish(queue, lines('a', 100));
  assert.deepEqual((await first.result()).received, lines('a', 100));
  // The sink process is gone; its socket file stays, refusing connections. The daemon
  // finds out when it sends: it holds what it was sending, as no other sink has it.
  await publish(queue, lines('b', 5));
  let absent = await statsWhen(control, 'the sink to be found absent', (s) => !s.sinks[0].reachable && s.ingest === 'waiting for a sink');
  // Fewer than the queue's depth, so publishing returns; with no sink reachable they stay queued.
  await publish(queue, lines('q', 5));
  absent = await stats(control);
  assert.ok(absent.queue.waiting >= 5, 'with no reachable sink, ingest leaves messages in the queue');
  assert.equal(absent.ingested + absent.queue.waiting, 110, 'every message is either ingested or still queued');

  const second = await startSink(['--bind', staticPath, '--expect', '110']);
  await publish(queue, lines('c', 100));
  assert.deepEqual((await second.result()).received, [...lines('b', 5), ...lines('q', 5), ...lines('c', 100)]);
  assert.equal(await daemon.stop(), 0);
});

test('a second daemon on the same queue is refused, so no message is split between two', async (t) => {
  const { queue, control, startDaemon, run } = setup(t);
  const first = await startDaemon();
  const second = run(['start', '--queue', queue, '--control', `@${uniqueName('ctl')}`]);
  assert.equal(await second.exited, 1);
  assert.match(second.stderr.join('\n'), /ERR_MSGMUX_ALREADY_RUNNING/);
  assert.equal((await stats(control)).ingest, 'waiting for a sink', 'the first daemon still serves');
  assert.equal(await first.stop(), 0);
});

test('a daemon restarted under a static sink keeps feeding it, with no re-registration', async (t) => {
  const { queue, control, staticPath, startDaemon, startSink } = setup(t);
  const sink = await startSink(['--bind', staticPath, '--expect', '205']);
  const before = await startDaemon(['--sink', staticPath]);
  await publish(queue, lines('x', 100));
  await statsWhen(control, 'the first 100 to be delivered', (s) => s.sinks[0].delivered === 100);
  assert.equal(await before.stop(), 0);

  await publish(queue, lines('y', 5)); // no daemon: they wait in the queue (fewer than its depth, so pub returns)
  const after = await startDaemon(['--sink', staticPath]);
  await publish(queue, lines('z', 100));
  assert.deepEqual((await sink.result()).received, [...lines('x', 100), ...lines('y', 5), ...lines('z', 100)]);
  assert.equal(await after.stop(), 0);
});

test('a hung drop sink does not hold back the others, and reports its drops', async (t) => {
  const { queue, control, startDaemon, startSink } = setup(t);
  // A small ring, so the hung sink is lapped many times over.
  const daemon = await startDaemon(['--ring-size', '64K']);
  const hung = `@${uniqueName('hung')}`;
  await startSink(['--bind', hung, '--register', control, '--policy', 'drop', '--hang']);
  const healthy = await startSink(['--bind', `@${uniqueName('healthy')}`, '--register', control, '--expect', '3000']);

  const padded = lines('m', 3000).map((line) => line.padEnd(100, '.'));
  await publish(queue, padded);
  assert.deepEqual((await healthy.result()).received, padded, 'the healthy sink got everything, in order');
  // The hung sink's worker counts what it lost when it next looks at the ring, so wait for the count.
  const { sinks } = await statsWhen(control, 'the hung sink to report drops', (s) => s.sinks.some((sink) => sink.path === hung && sink.dropped > 0));
  const report = sinks.find((sink) => sink.path === hung)!;
  assert.equal(report.policy, 'drop');
  assert.ok(report.delivered < 3000, 'it took only what fit in its socket queue');
  assert.equal(await daemon.stop(), 0);
});
