/**
 * The daemon end to end, with real processes: publishers through
 * `msgmux pub`, sinks as separate processes on real sockets and queues.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { daemonSetup, publish, uniqueName } from './helpers/daemon';

const PUBLISHERS = 3;
const PER_PUBLISHER = 1000;

const linesOf = (publisher: number, count: number, from = 0): string[] =>
  Array.from({ length: count }, (_, seq) => `p${publisher}:${from + seq}`);

/** Asserts that `received` holds every publisher's messages, each publisher's in order. */
function assertEveryMessageInOrder(received: string[], perPublisher: number, label: string): void {
  assert.equal(received.length, PUBLISHERS * perPublisher, `${label}: every message`);
  for (let p = 0; p < PUBLISHERS; p++) {
    const mine = received.filter((line) => line.startsWith(`p${p}:`)).map((line) => Number(line.split(':')[1]));
    assert.deepEqual(mine, Array.from({ length: perPublisher }, (_, k) => k), `${label}: publisher ${p} in order`);
  }
}

test('3 publishers, 5 sinks (dynamic, bare-path, static, mq): every block sink gets every message, per-publisher order kept', async (t) => {
  const { queue, control, dir, queues, startDaemon, startSink } = daemonSetup(t);
  const mqSink = `/${uniqueName('mqsink')}`;
  queues.push(mqSink);
  const staticPath = path.join(dir, 'static.sock');
  const total = String(PUBLISHERS * PER_PUBLISHER);

  const staticSink = await startSink(['--bind', staticPath, '--expect', total]);
  const daemon = await startDaemon(['--sink', staticPath, '--mq-sink', mqSink]);
  const mqReader = await startSink(['--mq', mqSink, '--expect', total]);
  const dynamic = [];
  for (const extra of [[], ['--bare'], ['--policy', 'block']]) {
    const sink = await startSink(['--bind', `@${uniqueName('sink')}`, '--register', control, '--expect', total, ...extra]);
    dynamic.push(sink);
  }

  await Promise.all(Array.from({ length: PUBLISHERS }, (_, p) => publish(queue, linesOf(p, PER_PUBLISHER))));

  const sinks = { static: staticSink, mq: mqReader, 'dynamic json': dynamic[0], 'dynamic bare': dynamic[1], 'dynamic block': dynamic[2] };
  for (const [label, sink] of Object.entries(sinks)) {
    assertEveryMessageInOrder((await sink.result()).received, PER_PUBLISHER, label);
  }
  assert.equal(await daemon.stop(), 0);
});
