/**
 * Load: 8 `block` sinks, 4 publisher processes sending sequenced messages as
 * fast as the queue takes them. Every sink must get every message exactly
 * once, in each publisher's order. `npm test` sends 200,000 messages;
 * `npm run test:soak` (MSGMUX_SOAK=1) sends 10,000,000.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { cleanup, run, startDaemon, statsWhen, uniqueName, type Proc } from './helpers/daemon';
import type { SequenceReport } from './fixtures/sequence';

const SOAK = process.env.MSGMUX_SOAK === '1';
const TOTAL = SOAK ? 10_000_000 : 200_000;
const PUBLISHERS = 4;
const SINKS = 8;
const PER_PUBLISHER = TOTAL / PUBLISHERS;
const FIXTURES = path.join(__dirname, 'fixtures');

const lastJson = <T>(proc: Proc): T => JSON.parse(proc.stdout.filter((line) => line.startsWith('{')).pop() ?? 'null') as T;

test(`${TOTAL} messages from ${PUBLISHERS} publishers reach ${SINKS} block sinks: none lost, duplicated or reordered`, async (t) => {
  const queue = `/${uniqueName('q')}`;
  const control = `@${uniqueName('ctl')}`;
  const procs: Proc[] = [];
  t.after(() => cleanup(procs, [queue]));
  const daemon = await startDaemon(queue, control, ['--policy', 'block', '--max-sinks-per-uid', String(SINKS), '--max-message', '64']);
  procs.push(daemon);

  const sinks: Proc[] = [];
  for (let k = 0; k < SINKS; k++) {
    const sink = run(path.join(FIXTURES, 'sequence-sink.js'), [
      '--bind', `@${uniqueName(`sink${k}`)}`, '--register', control,
      '--publishers', String(PUBLISHERS), '--per-publisher', String(PER_PUBLISHER), '--expect', String(TOTAL),
    ]);
    sinks.push(sink);
    procs.push(sink);
    await sink.waitFor((line) => line === 'ready', `sink ${k} to register`);
  }
  const publishers = Array.from({ length: PUBLISHERS }, (_, id) =>
    run(path.join(FIXTURES, 'sequence-publisher.js'), [queue, String(id), String(PER_PUBLISHER)]),
  );
  procs.push(...publishers);

  assert.deepEqual(await Promise.all(publishers.map((p) => p.exited)), new Array(PUBLISHERS).fill(0), 'every publisher finished');
  assert.deepEqual(await Promise.all(sinks.map((s) => s.exited)), new Array(SINKS).fill(0), 'every sink finished');
  const expected: SequenceReport = {
    received: TOTAL, distinct: new Array<number>(PUBLISHERS).fill(PER_PUBLISHER), duplicated: 0, reordered: 0, malformed: 0,
  };
  sinks.forEach((sink, k) => assert.deepEqual(lastJson<SequenceReport>(sink), expected, `sink ${k}`));

  const stats = await statsWhen(control, 'every delivery to be counted', (s) => s.sinks.every((sink) => sink.delivered === TOTAL));
  assert.equal(stats.ingested, TOTAL);
  assert.equal(stats.queue.waiting, 0);
  for (const sink of stats.sinks) assert.equal(sink.dropped, 0, `${sink.path} dropped nothing`);
  assert.equal(await daemon.stop(), 0);
});
