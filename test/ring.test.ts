/**
 * Ring semantics: joining, wrap-around, backpressure, reclaiming a dead
 * reader, eviction, errors, async forms and stream adapters.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { Ring, RingReadable, RingWritable } from 'msgmux';
import { runWorker } from './helpers/workers';

/** Copies a reader returns are Buffers. */
const bytes = (...values: number[]): Buffer => Buffer.from(values);
const numbered = (n: number, length = 4): Uint8Array => {
  const record = new Uint8Array(length);
  new DataView(record.buffer).setUint32(0, n, true);
  return record;
};
const numberOf = (record: Uint8Array): number => new DataView(record.buffer, record.byteOffset).getUint32(0, true);

test('records of every length from 0 to the limit come back byte for byte', () => {
  const ring = Ring.create({ capacity: 4096 });
  const writer = ring.writer();
  const reader = ring.reader();
  for (let length = 0; length <= ring.maxRecord; length += 13) {
    const record = Uint8Array.from({ length }, (_, k) => (k * 31 + length) & 255);
    assert.equal(writer.tryWrite(record), true);
    assert.deepEqual(reader.readSync(0), Buffer.from(record));
  }
  assert.equal(reader.readSync(0), null, 'nothing more to read');
});

test('records that do not fit before the end wrap to the start, across many laps', () => {
  const ring = Ring.create({ capacity: 1024 });
  const writer = ring.writer();
  const reader = ring.reader();
  // 200-byte records (208 with header) never divide 1024 evenly: most laps end in padding.
  for (let n = 0; n < 500; n++) {
    assert.equal(writer.tryWrite(numbered(n, 200)), true, `record ${n} fits once the reader caught up`);
    const record = reader.readSync(0);
    assert.ok(record);
    assert.equal(record.length, 200);
    assert.equal(numberOf(record), n);
  }
});

test('a record larger than a quarter of the ring is refused, never truncated', () => {
  const ring = Ring.create({ capacity: 4096 });
  const writer = ring.writer();
  assert.throws(() => writer.tryWrite(new Uint8Array(1025)), { code: 'ERR_MSGMUX_RECORD_TOO_LARGE' });
  assert.equal(writer.tryWrite(new Uint8Array(1024)), true);
});

test('bad options are refused with a code naming the problem', () => {
  assert.throws(() => Ring.create({ capacity: 3000 }), { code: 'ERR_MSGMUX_RING_CAPACITY' });
  assert.throws(() => Ring.create({ capacity: 1 << 31 }), { code: 'ERR_MSGMUX_RING_CAPACITY' });
  assert.throws(() => Ring.create({ capacity: 4096, maxReaders: 0 }), { code: 'ERR_MSGMUX_RING_READERS' });
  assert.throws(() => Ring.attach(new SharedArrayBuffer(8192)), { code: 'ERR_MSGMUX_RING_INVALID' });
  const ring = Ring.create({ capacity: 4096, maxReaders: 2 });
  assert.throws(() => ring.reader({ policy: 'fast' as never }), { code: 'ERR_MSGMUX_READER_OPTION' });
  assert.throws(() => ring.reader({ start: 'middle' as never }), { code: 'ERR_MSGMUX_READER_OPTION' });
  ring.reader();
  ring.reader();
  assert.throws(() => ring.reader(), { code: 'ERR_MSGMUX_RING_FULL' });
});

test('a reader joining at latest sees only what is written after it joined', () => {
  const ring = Ring.create({ capacity: 4096 });
  const writer = ring.writer();
  writer.tryWriteBatch([numbered(0), numbered(1)]);
  const reader = ring.reader({ start: 'latest' });
  writer.tryWriteBatch([numbered(2), numbered(3)]);
  assert.deepEqual(reader.readBatchSync(10, 0).map(numberOf), [2, 3]);
});

test('a reader joining at earliest gets the oldest record still intact, then everything after it', () => {
  const ring = Ring.create({ capacity: 1024 });
  const writer = ring.writer();
  writer.tryWriteBatch([numbered(0), numbered(1), numbered(2)]);
  const early = ring.reader({ start: 'earliest' });
  assert.deepEqual(early.readBatchSync(10, 0).map(numberOf), [0, 1, 2], 'nothing overwritten yet: from the first');
  early.close();

  // 16 bytes per record: 100 records lap a 1 KiB ring, so the first ones are gone.
  for (let n = 3; n < 100; n++) assert.equal(writer.tryWrite(numbered(n)), true);
  const late = ring.reader({ start: 'earliest' });
  const seen = late.readBatchSync(256, 0).map(numberOf);
  assert.equal(seen.length, 1024 / 16, 'a full ring of intact records');
  assert.equal(seen[0], 100 - 1024 / 16);
  assert.deepEqual(seen, seen.map((_, k) => seen[0] + k), 'contiguous to the end');
  assert.equal(late.lost, 0, 'joining at earliest loses nothing');
});

test('a paused block reader stops the writer, and closing it releases the writer', async () => {
  const ring = Ring.create({ capacity: 1 << 14 });
  const paused = ring.reader({ policy: 'block' });
  const count = 10_000;
  const writing = runWorker<{ written: number }>({ role: 'write', buffer: ring.buffer, count, maxLength: 64 });

  while (!ring.writerWaiting) await new Promise((resolve) => setTimeout(resolve, 5));
  const stuckAt = ring.written;
  assert.ok(stuckAt > 0 && stuckAt < count, `the writer stopped part-way (${stuckAt} of ${count})`);
  assert.ok(paused.lag > ring.capacity - 128, 'it stopped because the paused reader is a ring behind');
  assert.equal(ring.written, stuckAt, 'and stays stopped while the reader is paused');

  paused.close();
  assert.deepEqual(await writing, { written: count });
  assert.equal(ring.written, count);
});

test('a reader whose thread died without closing is reclaimed by its owner, releasing the writer', async () => {
  const ring = Ring.create({ capacity: 4096 });
  const writer = ring.writer();
  const die = new Int32Array(new SharedArrayBuffer(4));
  let exited!: Promise<unknown>;
  await runWorker({ role: 'hold', buffer: ring.buffer, count: 0, maxLength: 0, ready: die }, (worker) => {
    ring.reclaimOnExit(worker);
    exited = new Promise((resolve) => worker.once('exit', () => setImmediate(resolve)));
  });
  let written = 0;
  while (writer.tryWrite(numbered(written))) written++;
  assert.equal(writer.isBlocked(4), true, "the worker's reader gates the writer");
  assert.equal(ring.readers().length, 1);

  Atomics.store(die, 0, 1);
  Atomics.notify(die, 0);
  await exited;
  assert.deepEqual(ring.readers(), [], 'the dead thread no longer holds a slot');
  assert.equal(writer.isBlocked(4), false, 'nothing gates the writer any more');
  assert.equal(writer.tryWrite(numbered(written)), true);
});

test('reclaiming a live thread frees its slots at once', () => {
  const ring = Ring.create({ capacity: 4096 });
  const writer = ring.writer();
  ring.reader({ policy: 'block' });
  let written = 0;
  while (writer.tryWrite(numbered(written))) written++;
  assert.equal(writer.isBlocked(4), true, 'the abandoned reader gates the writer');
  assert.equal(ring.reclaim(0), 1);
  assert.equal(writer.isBlocked(4), false);
  assert.equal(writer.tryWrite(numbered(written)), true);
});

test('an evict reader that stalls past its budget is evicted, the writer moves on, the reader is told', () => {
  const ring = Ring.create({ capacity: 4096 });
  const writer = ring.writer();
  const stalled = ring.reader({ policy: 'evict', evictAfterMs: 30 });
  const healthy = ring.reader({ policy: 'block' });
  let n = 0;
  while (writer.tryWrite(numbered(n))) n++;
  healthy.readBatchSync(1024, 0);
  assert.equal(writer.writeSync(numbered(n), 5_000), true, 'the write completes once the stalled reader is evicted');
  assert.equal(ring.evictions, 1);
  assert.deepEqual(ring.readers().map((r) => [r.policy, r.state]), [['evict', 'evicted'], ['block', 'active']]);
  assert.throws(() => stalled.readSync(0), { code: 'ERR_MSGMUX_READER_EVICTED' });
  assert.equal(numberOf(healthy.readSync(0)!), n, 'the healthy reader still gets everything');
});

test('async write waits for room and async iteration delivers in order until the reader closes', async () => {
  const ring = Ring.create({ capacity: 1024 });
  const writer = ring.writer();
  const reader = ring.reader();
  const seen: number[] = [];
  const consuming = (async () => {
    for await (const record of reader) {
      seen.push(numberOf(record));
      if (seen.length === 500) reader.close();
    }
  })();
  for (let n = 0; n < 500; n++) await writer.write(numbered(n));
  await consuming;
  assert.deepEqual(seen, Array.from({ length: 500 }, (_, k) => k));
});

test('stream adapters carry records with their boundaries, under backpressure', async () => {
  const ring = Ring.create({ capacity: 1024 });
  const source = Readable.from(Array.from({ length: 2000 }, (_, n) => Buffer.from(numbered(n, 4 + (n % 40)))));
  const readable = new RingReadable(ring.reader());
  const seen: Uint8Array[] = [];
  const sink = new Writable({
    objectMode: true,
    write(record: Uint8Array, _encoding, done) {
      seen.push(record);
      if (seen.length === 2000) readable.destroy();
      done();
    },
  });
  await Promise.all([pipeline(source, new RingWritable(ring.writer())), pipeline(readable, sink).catch(() => undefined)]);
  assert.equal(seen.length, 2000);
  seen.forEach((record, n) => {
    assert.equal(record.length, 4 + (n % 40));
    assert.equal(numberOf(record), n);
  });
  assert.deepEqual(ring.readers(), [], 'destroying the readable closed its reader');
});

test('batch forms write and read many records per call', () => {
  const ring = Ring.create({ capacity: 1 << 16 });
  const writer = ring.writer();
  const reader = ring.reader();
  const records = Array.from({ length: 300 }, (_, n) => numbered(n, 8));
  assert.equal(writer.writeBatchSync(records, 0), 300);
  const source = new Uint8Array(64);
  const offsets = Int32Array.from([0, 10, 20]);
  const lengths = Int32Array.from([3, 5, 0]);
  source.set(bytes(7, 8, 9), 0);
  source.set(bytes(1, 2, 3, 4, 5), 10);
  assert.equal(writer.writeRegionsSync(source, offsets, lengths, 3, 0), 3);
  const first = reader.readBatchSync(256, 0);
  assert.equal(first.length, 256);
  const rest = reader.readBatchSync(256, 0);
  assert.deepEqual(rest.slice(-3), [bytes(7, 8, 9), bytes(1, 2, 3, 4, 5), bytes()]);
  assert.deepEqual([...first, ...rest.slice(0, -3)].map(numberOf), records.map(numberOf));
  assert.equal(reader.delivered, 303);
});

test('per-record reads mix with batch and zero-copy reads: every record once, in order, with exact counters', () => {
  const ring = Ring.create({ capacity: 4096 });
  const writer = ring.writer();
  const reader = ring.reader({ maxBatch: 8 });
  assert.equal(writer.tryWriteBatch(Array.from({ length: 20 }, (_, n) => numbered(n))), 20);
  const perRecord = 16; // bytes a 4-byte record takes in the ring
  const seen = [reader.readSync(0), reader.readSync(0), reader.readSync(0)].map((r) => numberOf(r!));
  assert.deepEqual(seen, [0, 1, 2]);
  assert.equal(reader.delivered, 3, 'records handed out one by one count at once');
  assert.equal(reader.lag, 17 * perRecord, 'and are no longer lag');

  const peeked = reader.peek(2); // what readSync read ahead but did not hand out comes next
  const words = new Int32Array(ring.buffer);
  assert.deepEqual([0, 1].map((k) => words[peeked.offsets[k] >> 2]), [3, 4]);
  reader.release();
  for (let n = 5; n < 9; n++) assert.equal(numberOf(reader.readSync(0)!), n);
  assert.deepEqual(reader.readBatchSync(5, 0).map(numberOf), [9, 10, 11, 12, 13]);
  for (let n = 14; n < 20; n++) assert.equal(numberOf(reader.readSync(0)!), n);
  assert.equal(reader.readSync(0), null, 'nothing more');
  assert.deepEqual([reader.delivered, reader.lag, reader.lost], [20, 0, 0]);
  assert.equal(ring.readers()[0].delivered, 20, 'caught up: everything is released where the writer sees it');
});

test('a drop reader lapped between per-record reads skips to the oldest intact record and counts what it lost', () => {
  const ring = Ring.create({ capacity: 1024 });
  const writer = ring.writer();
  const reader = ring.reader({ policy: 'drop' });
  for (let n = 0; n < 10; n++) assert.equal(writer.tryWrite(numbered(n)), true);
  assert.equal(numberOf(reader.readSync(0)!), 0);
  assert.equal(numberOf(reader.readSync(0)!), 1);
  // 16 bytes per record: 200 more lap the 1 KiB ring; a drop reader does not hold the writer back.
  for (let n = 10; n < 210; n++) assert.equal(writer.tryWrite(numbered(n)), true);
  const rest: number[] = [];
  for (let r = reader.readSync(0); r !== null; r = reader.readSync(0)) rest.push(numberOf(r));
  assert.equal(rest[rest.length - 1], 209, 'read to the end');
  assert.deepEqual(rest, rest.map((_, k) => rest[0] + k), 'contiguous from where it resumed');
  assert.ok(rest[0] > 2, `records overwritten before it read them are skipped (resumed at ${rest[0]})`);
  assert.equal(reader.lost, rest[0] - 2, 'every skipped record is counted lost');
  assert.equal(reader.delivered, 2 + rest.length);
});
