/**
 * The ring across real worker threads: every `block` reader gets every
 * record exactly once and in order, a lapped `drop` reader counts exactly
 * what it lost and never returns a torn record.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ring } from 'msgmux';
import { Header } from '../src/ring/layout';
import { runWorker } from './helpers/workers';
import type { ReadReport } from './fixtures/ring-worker';

const RECORDS = 1_000_000;
const MAX_LENGTH = 4096;

test('1 writer and 4 block readers in separate threads: 1,000,000 records of 0-4096 B, each exactly once, in order', async () => {
  const ring = Ring.create({ capacity: 1 << 20 });
  const ready = new Int32Array(new SharedArrayBuffer(4 * 4));
  const readers = [0, 1, 2, 3].map((k) =>
    runWorker<ReadReport>({
      role: 'read', buffer: ring.buffer, count: RECORDS, maxLength: MAX_LENGTH, policy: 'block',
      start: 'earliest', zeroCopy: k % 2 === 1, ready: ready.subarray(k, k + 1),
    }),
  );
  for (let k = 0; k < 4; k++) while (Atomics.load(ready, k) === 0) Atomics.wait(ready, k, 0, 50);
  const writer = runWorker<{ written: number }>({ role: 'write', buffer: ring.buffer, count: RECORDS, maxLength: MAX_LENGTH });

  assert.deepEqual(await writer, { written: RECORDS });
  for (const report of await Promise.all(readers)) {
    assert.deepEqual(report.errors, []);
    assert.equal(report.received, RECORDS);
    assert.equal(report.lastSeq, RECORDS - 1);
    assert.equal(report.lost, 0);
  }
  assert.equal(ring.written, RECORDS);
  assert.deepEqual(ring.readers(), [], 'every reader closed its slot');
});

test('a lapped drop reader reports what it lost, exactly, and never a torn or reordered record', async () => {
  const ring = Ring.create({ capacity: 64 << 10 });
  const ready = new Int32Array(new SharedArrayBuffer(4));
  const count = 200_000;
  const dropper = runWorker<ReadReport>({
    role: 'read', buffer: ring.buffer, count, maxLength: 512, policy: 'drop', napMs: 1, ready,
  });
  while (Atomics.load(ready, 0) === 0) Atomics.wait(ready, 0, 0, 50);
  await runWorker({ role: 'write', buffer: ring.buffer, count, maxLength: 512 });
  const report = await dropper;

  assert.deepEqual(report.errors, [], 'every record returned was intact and where its sequence says');
  assert.ok(report.lost > 0, 'the writer lapped the reader');
  assert.equal(report.gaps, report.lost);
  assert.equal(report.received + report.lost, count, 'delivered + lost accounts for every record');
});

test('a lapped drop reader holding zero-copy regions learns which stayed intact, and uses only those', async () => {
  const ring = Ring.create({ capacity: 16 << 10 });
  const ready = new Int32Array(new SharedArrayBuffer(4));
  const count = 100_000;
  const dropper = runWorker<ReadReport>({
    role: 'read', buffer: ring.buffer, count, maxLength: 256, policy: 'drop', zeroCopy: true, napMs: 1, ready,
  });
  while (Atomics.load(ready, 0) === 0) Atomics.wait(ready, 0, 0, 50);
  await runWorker({ role: 'write', buffer: ring.buffer, count, maxLength: 256 });
  const report = await dropper;

  assert.deepEqual(report.errors, [], 'no torn record was used');
  assert.ok(report.lost > 0, 'the writer lapped the reader');
  assert.equal(report.gaps, report.lost);
  assert.equal(report.received + report.lost, count);
});

test('a second writer in another thread is refused while the first holds the ring', async () => {
  const ring = Ring.create({ capacity: 1 << 12 });
  const writer = ring.writer();
  assert.deepEqual(await runWorker({ role: 'take-writer', buffer: ring.buffer, count: 0, maxLength: 0 }), {
    code: 'ERR_MSGMUX_WRITER_TAKEN',
  });
  writer.close();
  assert.deepEqual(await runWorker({ role: 'take-writer', buffer: ring.buffer, count: 0, maxLength: 0 }), { code: null });
});

test('a reader waiting for records with no deadline returns, empty, once its owner asks it to stop and wakes the ring\'s readers', { timeout: 60_000 }, async () => {
  const ring = Ring.create({ capacity: 1 << 12 });
  const writer = ring.writer();
  // [0]: the worker has joined and is about to wait; [1]: stop
  const flags = new Int32Array(new SharedArrayBuffer(8));
  let report: { count: number } | undefined;
  const done = runWorker<{ count: number }>({ role: 'wait-until', buffer: ring.buffer, count: 0, maxLength: 0, ready: flags }).then((r) => (report = r));
  const joined = Atomics.waitAsync(flags, 0, 0);
  if (joined.async) await joined.value;
  // Past its spin, a reader flags itself asleep: stop it only then, so the stop must reach it by the wake.
  const i32 = new Int32Array(ring.buffer);
  // The ring is fresh, so the word starts at 0 (a baseline loaded here could already include the worker's flag, and the wait for it to move would never end).
  while (Atomics.load(i32, Header.READER_SLEEPS) === 0) await new Promise((resolve) => setTimeout(resolve, 1));
  await new Promise((resolve) => setTimeout(resolve, 20)); // and into the sleep itself, nearly always
  Atomics.store(flags, 1, 1);
  // As the daemon's registry does: wake again until it has noticed (a wake just before its sleep is missed).
  while (report === undefined) {
    ring.wakeReaders();
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await done;
  assert.deepEqual(report, { count: 0 }, 'nothing was written: the wait ended for the stop');
  writer.close();
});
