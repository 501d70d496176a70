/**
 * The daemon end to end, with real processes: publishers through
 * `msgmux pub`, sinks as separate processes on real sockets and queues.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cleanup, publish, startDaemon, startSink, uniqueName, type Proc } from './helpers/daemon';

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
  const dir = mkdtempSync(path.join(tmpdir(), 'msgmux-test-'));
  const queue = `/${uniqueName('q')}`;
  const mqSink = `/${uniqueName('mqsink')}`;
  const control = `@${uniqueName('ctl')}`;
  const staticPath = path.join(dir, 'static.sock');
  const procs: Proc[] = [];
  t.after(() => {
    cleanup(procs, [queue, mqSink]);
    rmSync(dir, { recursive: true, force: true });
  });
  const total = String(PUBLISHERS * PER_PUBLISHER);

  const staticSink = await startSink(['--bind', staticPath, '--expect', total]);
  procs.push(staticSink);
  const daemon = await startDaemon(queue, control, ['--sink', staticPath, '--mq-sink', mqSink]);
  procs.push(daemon);
  const mqReader = await startSink(['--mq', mqSink, '--expect', total]);
  procs.push(mqReader);
  const dynamic = [];
  for (const extra of [[], ['--bare'], ['--policy', 'block']]) {
    const sink = await startSink(['--bind', `@${uniqueName('sink')}`, '--register', control, '--expect', total, ...extra]);
    procs.push(sink);
    dynamic.push(sink);
  }

  await Promise.all(Array.from({ length: PUBLISHERS }, (_, p) => publish(queue, linesOf(p, PER_PUBLISHER))));

  const sinks = { static: staticSink, mq: mqReader, 'dynamic json': dynamic[0], 'dynamic bare': dynamic[1], 'dynamic block': dynamic[2] };
  for (const [label, sink] of Object.entries(sinks)) {
    assertEveryMessageInOrder((await sink.result()).received, PER_PUBLISHER, label);
  }
  assert.equal(await daemon.stop(), 0);
});
