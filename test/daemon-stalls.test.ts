/**
 * Faults the other fault tests do not cover: a sink SIGSTOPped under each
 * policy, socket files deleted under a sink, the daemon SIGTERMed while
 * publishers are busy, and SIGKILLed under static and mq sinks. Sinks check
 * per-publisher sequence numbers, so loss, duplicates and reordering are counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unlinkSync } from 'node:fs';
import path from 'node:path';
import { MessageQueue } from 'msgmux/native';
import { controlRequest } from '../src/control-client';
import {
  daemonSetup, daemonStats, lines, logged, publish, run, startDaemon, startSink, statsWhen, uniqueName, type Proc,
} from './helpers/daemon';
import type { SequenceReport } from './fixtures/sequence';

const FIXTURES = path.join(__dirname, 'fixtures');
const SMALL = ['--max-message', '256'];

/** A checking sink (fixtures/sequence-sink.ts), started and ready. */
async function sequenceSink(procs: Proc[], args: string[], publishers: number, perPublisher: number): Promise<Proc> {
  const sink = run(path.join(FIXTURES, 'sequence-sink.js'), [
    ...args, '--publishers', String(publishers), '--per-publisher', String(perPublisher), '--expect', String(publishers * perPublisher),
  ]);
  procs.push(sink);
  await sink.waitFor((line) => line === 'ready', 'the sink to be ready');
  return sink;
}

const sequencePublisher = (procs: Proc[], queue: string, id: number, count: number): Proc => {
  const proc = run(path.join(FIXTURES, 'sequence-publisher.js'), [queue, String(id), String(count)]);
  procs.push(proc);
  return proc;
};

async function reportOf(sink: Proc): Promise<SequenceReport> {
  assert.equal(await sink.exited, 0, sink.stderr.join('\n'));
  return JSON.parse(sink.stdout.filter((line) => line.startsWith('{')).pop()!) as SequenceReport;
}

const complete = (count: number): SequenceReport => ({ received: count, distinct: [count], duplicated: 0, reordered: 0, malformed: 0 });
const N = 20_000;

/** A daemon, a SIGSTOPped sink at `stoppedAddress` with `policy`, a healthy sink, and a publisher of N messages already sending. */
async function stoppedSinkUnderLoad(t: { after(fn: () => void): void }, stoppedAddress: string, policy: string[]) {
  const { queue, control, procs } = daemonSetup(t); // its cleanup SIGKILLs what is left, a SIGSTOPped sink too
  const daemon = await startDaemon(queue, control, [...SMALL, '--ring-size', '64K']);
  procs.push(daemon);
  const stopped = await sequenceSink(procs, ['--bind', stoppedAddress, '--register', control, ...policy], 1, N);
  const healthy = await sequenceSink(procs, ['--bind', `@${uniqueName('healthy')}`, '--register', control], 1, N);
  stopped.child.kill('SIGSTOP');
  const pub = sequencePublisher(procs, queue, 0, N);
  return { control, daemon, stopped, healthy, pub };
}

test('a SIGSTOPped block sink holds the publishers back and, continued, loses nothing', async (t) => {
  const { control, daemon, stopped, healthy, pub } = await stoppedSinkUnderLoad(t, `@${uniqueName('stopped')}`, ['--policy', 'block']);

  const held = await statsWhen(control, 'the ring and then the queue to fill', (s) => s.ingest === 'waiting for the slowest sink' && s.queue.waiting === s.queue.depth);
  assert.ok(held.ingested < N, `ingest stopped short (${held.ingested})`);
  assert.equal(pub.child.exitCode, null, 'the publisher is held back while the sink is stopped');
  stopped.child.kill('SIGCONT');

  assert.equal(await pub.exited, 0);
  assert.deepEqual(await reportOf(stopped), complete(N));
  assert.deepEqual(await reportOf(healthy), complete(N));
  const stats = await statsWhen(control, 'both to be counted', (s) => s.totals.delivered === 2 * N);
  assert.deepEqual([stats.totals.droppedByPolicy, stats.totals.undelivered], [0, 0]);
  assert.equal(await daemon.stop(), 0);
});

test('a SIGSTOPped drop sink counts what it missed; the others get everything', async (t) => {
  const dropAddress = `@${uniqueName('stopped')}`;
  const { control, daemon, stopped, healthy, pub } = await stoppedSinkUnderLoad(t, dropAddress, ['--policy', 'drop', '--idle', '2000']);
  assert.equal(await pub.exited, 0, 'a stopped drop sink holds nobody back');
  assert.deepEqual(await reportOf(healthy), complete(N));
  const settled = await statsWhen(control, 'every message to be delivered or dropped', (s) => {
    const sink = s.sinks.find((x) => x.path === dropAddress);
    return sink !== undefined && sink.delivered + sink.dropped === N;
  });
  stopped.child.kill('SIGCONT');
  const report = await reportOf(stopped);
  const sink = settled.sinks.find((x) => x.path === dropAddress)!;
  assert.ok(sink.droppedByPolicy > 0, `the stopped sink missed messages (${sink.droppedByPolicy})`);
  assert.equal(sink.undelivered, 0, 'the sink was there all along: nothing undeliverable');
  assert.equal(report.received, sink.delivered, 'what it received is what the daemon counts as delivered');
  assert.deepEqual([report.duplicated, report.reordered], [0, 0], 'what it got came once and in order');
  assert.equal(settled.totals.droppedByPolicy, sink.droppedByPolicy, 'the total agrees');
  assert.equal(await daemon.stop(), 0);
});

test('a SIGSTOPped evict sink is evicted after its budget; the others get everything', async (t) => {
  const { queue, control, procs } = daemonSetup(t);
  const daemon = await startDaemon(queue, control, [...SMALL, '--ring-size', '64K']);
  procs.push(daemon);
  const evictAddress = `@${uniqueName('stopped')}`;
  const stopped = run(path.join(FIXTURES, 'sequence-sink.js'), ['--bind', evictAddress, '--publishers', '1', '--per-publisher', String(N), '--expect', String(N), '--idle', '2000']);
  procs.push(stopped);
  await stopped.waitFor((line) => line === 'ready', 'the evict sink');
  const reply = await controlRequest(control, { op: 'subscribe', path: evictAddress, policy: 'evict', evictAfterMs: 300 });
  assert.equal(reply.ok, true);
  const healthy = await sequenceSink(procs, ['--bind', `@${uniqueName('healthy')}`, '--register', control], 1, N);
  stopped.child.kill('SIGSTOP');
  const pub = sequencePublisher(procs, queue, 0, N);
  assert.equal(await pub.exited, 0, 'the publisher is released once the stalled sink is evicted');
  assert.deepEqual(await reportOf(healthy), complete(N));
  await daemon.waitFor(logged('sink stalled past its budget; evicted'), 'the eviction to be logged');
  assert.equal((await daemonStats(control)).sinks.some((s) => s.path === evictAddress), false, 'the evicted sink is gone');
  stopped.child.kill('SIGCONT');
  const report = await reportOf(stopped);
  assert.ok(report.received < N, `it got only a part (${report.received})`);
  assert.deepEqual([report.duplicated, report.reordered], [0, 0]);
  assert.equal(await daemon.stop(), 0);
});

test('a socket file deleted under a sink: a registered one is removed and a static one marked absent, with no traffic', async (t) => {
  const { dir, queue, control, procs } = daemonSetup(t);
  const staticPath = path.join(dir, 'static.sock');
  const dynamicPath = path.join(dir, 'dynamic.sock');
  const staticSink = await startSink(['--bind', staticPath, '--expect', '10', '--idle', '30000']);
  procs.push(staticSink);
  const daemon = await startDaemon(queue, control, [...SMALL, '--sink', staticPath]);
  procs.push(daemon);
  const dynamicSink = await startSink(['--bind', dynamicPath, '--register', control, '--idle', '30000']);
  procs.push(dynamicSink);
  assert.equal((await daemonStats(control)).sinks.length, 2);

  unlinkSync(dynamicPath);
  unlinkSync(staticPath);
  const after = await statsWhen(control, 'both deletions to be noticed', (s) => s.sinks.length === 1 && !s.sinks[0].reachable);
  assert.equal(after.sinks[0].path, staticPath, 'the static sink is kept');
  assert.equal(after.ingested, 0, 'found by probing: nothing was sent');

  const back = await startSink(['--bind', staticPath, '--expect', '10']);
  procs.push(back);
  await statsWhen(control, 'the static sink to be reachable again', (s) => s.sinks[0].reachable);
  await publish(queue, lines('m', 10));
  assert.deepEqual((await back.result()).received, lines('m', 10));
  assert.equal(await daemon.stop(), 0);
});

test('the daemon SIGTERMed under load delivers what it took; the rest waits in the queue for the next start', async (t) => {
  const { dir, queue, control, procs } = daemonSetup(t);
  const PUBLISHERS = 4;
  const EACH = 25_000;
  const staticPath = path.join(dir, 'static.sock');
  const sink = await sequenceSink(procs, ['--bind', staticPath, '--idle', '30000'], PUBLISHERS, EACH);
  const args = [...SMALL, '--sink', staticPath];
  const first = await startDaemon(queue, control, args);
  procs.push(first);
  const pubs = Array.from({ length: PUBLISHERS }, (_, id) => sequencePublisher(procs, queue, id, EACH));
  await statsWhen(control, 'load to build', (s) => s.ingested > 10_000);
  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0);
  const stopped = JSON.parse(first.stderr.find(logged('stopped'))!) as { ingested: number; abandoned: number; queueWaiting: number };
  assert.equal(stopped.abandoned, 0);
  assert.ok(stopped.ingested < PUBLISHERS * EACH, `stopped mid-stream (${stopped.ingested})`);
  assert.ok(pubs.some((p) => p.child.exitCode === null), 'publishers still have messages to send');

  const second = await startDaemon(queue, control, args);
  procs.push(second);
  assert.deepEqual(await Promise.all(pubs.map((p) => p.exited)), [0, 0, 0, 0]);
  const report = await reportOf(sink);
  assert.deepEqual(report, { received: PUBLISHERS * EACH, distinct: [EACH, EACH, EACH, EACH], duplicated: 0, reordered: 0, malformed: 0 });
  assert.equal(await second.stop(), 0);
});

test('the daemon SIGKILLed and restarted: static and mq sinks resume without re-registration', async (t) => {
  const { dir, queue, control, procs, queues } = daemonSetup(t);
  const staticPath = path.join(dir, 'static.sock');
  const mqSink = `/${uniqueName('mqsink')}`;
  queues.push(mqSink);
  MessageQueue.open(mqSink, { create: true, depth: 10, messageSize: 256 }).close();
  const viaSocket = await startSink(['--bind', staticPath, '--expect', '205', '--idle', '30000']);
  const viaQueue = await startSink(['--mq', mqSink, '--expect', '205', '--idle', '30000']);
  procs.push(viaSocket, viaQueue);
  const args = [...SMALL, '--sink', staticPath, '--mq-sink', mqSink];
  const first = await startDaemon(queue, control, args);
  procs.push(first);
  await publish(queue, lines('a', 100));
  await statsWhen(control, 'the first 100 to reach both', (s) => s.sinks.every((sink) => sink.delivered === 100));
  first.child.kill('SIGKILL');
  assert.equal(await first.exited, 'SIGKILL');

  await publish(queue, lines('b', 5)); // no daemon: they wait in the queue
  const second = await startDaemon(queue, control, args);
  procs.push(second);
  await publish(queue, lines('c', 100));
  const expected = [...lines('a', 100), ...lines('b', 5), ...lines('c', 100)];
  assert.deepEqual((await viaSocket.result()).received, expected);
  assert.deepEqual((await viaQueue.result()).received, expected);
  assert.equal(await second.stop(), 0);
});
