/**
 * What makes per-record calls cheap must not change what they deliver:
 * readers release lazily, yet a block reader eventually releases all it
 * consumed and never leaves the writer waiting on it; copies live in a
 * pooled slab, yet each stays correct and independent after the pool rolls
 * over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ring } from 'msgmux';
import { runWorker } from './helpers/workers';
import type { ReadReport } from './fixtures/ring-worker';

const numbered = (n: number, length: number): Uint8Array => {
  const record = new Uint8Array(length);
  for (let k = 0; k < length; k++) record[k] = (n * 7 + k) & 255;
  if (length >= 4) new DataView(record.buffer).setUint32(0, n, true);
  return record;
};

test('a block reader that has read everything has released everything: the writer gets the whole ring back', () => {
  const ring = Ring.create({ capacity: 1 << 16 });
  const writer = ring.writer();
  const reader = ring.reader({ policy: 'block' });
  let written = 0;
  while (writer.tryWrite(numbered(written, 40))) written++;
  assert.equal(writer.isBlocked(40), true, 'the ring is full');

  // Reading one by one, the reader may keep what it consumed to itself for a while...
  for (let n = 0; n < written - 1; n++) assert.ok(reader.readSync(0));
  const [snapshot] = ring.readers();
  assert.ok(snapshot.lag >= reader.lag, 'the writer never sees the reader ahead of where it is');
  assert.ok(snapshot.lag - reader.lag <= ring.capacity / 16, 'but holds back at most the release window');

  // ...and once it has read the last record, all of it is released.
  assert.ok(reader.readSync(0));
  assert.equal(reader.readSync(0), null);
  assert.equal(ring.readers()[0].lag, 0, 'everything consumed is released');
  assert.equal(ring.readers()[0].delivered, written);
  assert.equal(writer.isBlocked(ring.maxRecord), false);
  let again = 0;
  while (writer.tryWrite(numbered(again, 40))) again++;
  assert.equal(again, written, 'a whole ring of room again');
});

test('1 writer, 2 per-record block readers in threads, a small ring: nobody deadlocks, everything arrives once, in order', async () => {
  // A 4 KiB ring makes the writer sleep for room over and over, and the readers for records.
  const ring = Ring.create({ capacity: 1 << 12 });
  const count = 100_000;
  const ready = new Int32Array(new SharedArrayBuffer(8));
  const readers = [0, 1].map((k) =>
    runWorker<ReadReport>({
      role: 'read', buffer: ring.buffer, count, maxLength: 300, policy: 'block', start: 'earliest',
      perRecord: true, ready: ready.subarray(k, k + 1),
    }),
  );
  for (let k = 0; k < 2; k++) while (Atomics.load(ready, k) === 0) Atomics.wait(ready, k, 0, 50);
  assert.deepEqual(await runWorker({ role: 'write', buffer: ring.buffer, count, maxLength: 300 }), { written: count });
  for (const report of await Promise.all(readers)) {
    assert.deepEqual(report.errors, []);
    assert.equal(report.received, count);
    assert.equal(report.lastSeq, count - 1);
  }
  assert.deepEqual(ring.readers(), []);
});

test('copies stay correct and independent after the copy pool rolls over, and are cheap Buffers', () => {
  const ring = Ring.create({ capacity: 1 << 16 });
  const writer = ring.writer();
  const reader = ring.reader();
  const kept: { n: number; length: number; record: Buffer }[] = [];
  // ~600 KiB of copies: the 64 KiB pool rolls over several times, in single and batch reads.
  const lengthOf = (n: number): number => n % 97;
  for (let n = 0; n < 12_000; n += 3) {
    for (let k = n; k < n + 3; k++) assert.equal(writer.tryWrite(numbered(k, lengthOf(k))), true);
    kept.push({ n, length: lengthOf(n), record: reader.readSync(0)! });
    const [second, third] = reader.readBatchSync(2, 0);
    kept.push({ n: n + 1, length: lengthOf(n + 1), record: second }, { n: n + 2, length: lengthOf(n + 2), record: third });
  }
  const slabs = new Set(kept.map((c) => c.record.buffer));
  assert.ok(slabs.size > 4, `copies live in several slabs (${slabs.size})`);
  for (const buffer of slabs) assert.equal(buffer instanceof SharedArrayBuffer, false, "a copy never shares the ring's memory");

  for (const { n, length, record } of kept) {
    assert.ok(Buffer.isBuffer(record), `record ${n} is a Buffer`);
    assert.deepEqual(record, Buffer.from(numbered(n, length)), `record ${n} unchanged after later copies`);
  }
  // Writing into one copy changes no other copy.
  const victim = kept.find((c) => c.length > 10)!;
  victim.record.fill(0xee);
  for (const { n, length, record } of kept) if (record !== victim.record) assert.deepEqual(record, Buffer.from(numbered(n, length)));
});
