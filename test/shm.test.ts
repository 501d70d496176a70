/**
 * A ring in shared memory read by other processes: real /dev/shm files,
 * real reader processes, futex waits across them.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { test } from 'node:test';
import { ShmRing, type ShmGrant } from '../src/shm';
import { numbered, removeShmFiles, spawnShmReader, uniqueShmName } from './helpers/shm';

test.after(removeShmFiles);

function newRing(t: { after(fn: () => void): void }, options: { capacity?: number; mode?: number } = {}): ShmRing {
  const host = ShmRing.create({ name: uniqueShmName(), capacity: options.capacity ?? 1 << 16, processReaders: 4, mode: options.mode });
  t.after(() => host.close());
  return host;
}

const self = { uid: process.getuid!(), gid: process.getgid!() };

/** io_uring's FUTEX_WAIT came with Linux 6.7; the kernel may also have io_uring turned off. */
function ioUringExpected(): boolean {
  const [major, minor] = os.release().split('.').map(Number);
  let disabled = '0';
  try {
    disabled = readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim();
  } catch {
    // older kernels have no switch
  }
  return (major > 6 || (major === 6 && minor >= 7)) && disabled === '0';
}

test('readers in several processes get every record, in order, sync and async', async (t) => {
  const host = newRing(t);
  const total = 20_000;
  const readers = ['sync', 'async', 'sync'].map((mode) => spawnShmReader(mode, total));
  for (const r of readers) r.give(host.grant({ pid: r.child.pid!, ...self, start: 'earliest' }));
  const writer = host.ring.writer();
  for (let n = 0; n < total; n += 500) await writer.writeBatch(numbered(n, 500));
  for (const r of readers) {
    const { report, code } = await r.result;
    assert.equal(code, 0);
    assert.deepEqual(report, { received: total, inOrder: true, first: 0, last: total - 1 });
  }
});

test('asynchronous waits deliver every record whether the event loop polls them (io_uring) or a pool thread serves them', async (t) => {
  const host = newRing(t);
  const total = 3_000;
  const polled = spawnShmReader('async', total);
  const pooled = spawnShmReader('async', total, [], { ...process.env, MSGMUX_ASYNC_WAITS: 'pool' });
  for (const r of [polled, pooled]) r.give(host.grant({ pid: r.child.pid!, ...self, start: 'earliest' }));
  const writer = host.ring.writer();
  // Small batches with pauses between: the readers catch up and wait, again and again.
  for (let n = 0; n < total; n += 30) {
    await writer.writeBatch(numbered(n, 30));
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  for (const [r, kind] of [[polled, ioUringExpected() ? 'io_uring' : 'thread pool'], [pooled, 'thread pool']] as const) {
    const { report, code, lines } = await r.result;
    assert.equal(code, 0);
    assert.deepEqual(report, { received: total, inOrder: true, first: 0, last: total - 1 });
    assert.ok(lines.includes(`waits: ${kind}`), `expected waits via ${kind}: ${lines.join(' | ')}`);
  }
});

test('a reader process SIGKILLed mid-stream stops gating, and its slot is reused', async (t) => {
  const host = newRing(t, { capacity: 1 << 12 });
  const released: string[] = [];
  host.onRelease = (_grant, _pid, reason) => released.push(reason);
  const writer = host.ring.writer();
  const stalled = spawnShmReader('stall');
  const first: ShmGrant = host.grant({ pid: stalled.child.pid!, ...self, policy: 'block' });
  stalled.give(first);
  writer.tryWrite(numbered(0, 1)[0]);
  await stalled.printed('stalled');
  let n = 1;
  while (writer.tryWrite(numbered(n, 1)[0])) n++;
  assert.equal(writer.isBlocked(64), true, 'the stalled block reader gates the writer');

  const gone = new Promise<void>((resolve) => {
    host.onRelease = (_grant, _pid, reason) => {
      released.push(reason);
      resolve();
    };
  });
  stalled.child.kill('SIGKILL');
  await gone;
  assert.deepEqual(released, ['exited']);
  assert.equal(writer.tryWrite(numbered(n++, 1)[0]), true, 'the dead reader no longer gates');

  const next = spawnShmReader('sync', 100);
  const second = host.grant({ pid: next.child.pid!, ...self });
  assert.equal(second.readerSlot, first.readerSlot, 'the slot is reused');
  next.give(second);
  const from = n;
  const writes = (async () => {
    for (let k = 0; k < 100; k += 10) await writer.writeBatch(numbered(from + k, 10));
  })();
  const [{ report }] = await Promise.all([next.result, writes]);
  assert.equal(report?.received, 100);
  assert.equal(report?.inOrder, true);
});

test('a reader that rewrites its own slot (policy, state) cannot make itself gate the writer', async (t) => {
  const host = newRing(t, { capacity: 1 << 12 });
  const writer = host.ring.writer();
  const dropper = spawnShmReader('tamper');
  dropper.give(host.grant({ pid: dropper.child.pid!, ...self, policy: 'drop' }));
  await dropper.printed('tampering');
  // Its page now says "block, active" with a cursor that never moves: four rings' worth must still go in.
  for (let n = 0; n < 4 * 64; n++) assert.equal(writer.tryWrite(numbered(n, 1)[0]), true, `write ${n} is not held back by a drop reader`);

  const evictee = spawnShmReader('tamper');
  const grant = host.grant({ pid: evictee.child.pid!, ...self, policy: 'evict', evictAfterMs: 20 });
  evictee.give(grant);
  await evictee.printed('tampering');
  const reasons: string[] = [];
  host.onRelease = (_grant, _pid, reason) => reasons.push(reason);
  await writer.writeBatch(numbered(0, 4 * 64)); // held back until the budget runs out, then never again
  assert.equal(host.ring.evictions, 1);
  assert.equal(host.sweep(), 1, 'the evicted slot is swept although its page says active');
  assert.deepEqual(reasons, ['evicted']);
  assert.deepEqual(host.grants.map((g) => g.readerSlot), [host.grants.find((g) => g.readerSlot !== grant.readerSlot)!.readerSlot], 'only the drop reader keeps its slot');
  for (const r of [dropper, evictee]) r.child.kill('SIGKILL');
});

test('a reader that writes into the data region dies of SIGSEGV and the ring stays intact', async (t) => {
  const host = newRing(t);
  const writer = host.ring.writer();
  const witness = host.ring.reader({ start: 'earliest' });
  writer.tryWriteBatch(numbered(0, 50));
  const scribbler = spawnShmReader('scribble');
  scribbler.give(host.grant({ pid: scribbler.child.pid!, ...self, start: 'earliest' }));
  const { signal, lines } = await scribbler.result;
  assert.deepEqual(lines, ['scribbling']);
  assert.equal(signal, 'SIGSEGV');
  const records = witness.readBatchSync(100, 0);
  assert.deepEqual(records.map((r) => new DataView(r.buffer, r.byteOffset).getUint32(0, true)), [...Array(50).keys()]);
  assert.ok(records.every((r) => r.subarray(4).every((b) => b === 0)), 'payloads untouched');
});

test('a process of a foreign uid cannot open the ring (file mode 0640, owner root)', async (t) => {
  if (process.getuid!() !== 0) return t.skip('needs root to run a child as uid 65534');
  const host = newRing(t, { mode: 0o640 });
  const foreign = spawnShmReader('sync', 1, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']);
  // A grant for a uid the owner would never admit: the files still refuse the process.
  foreign.give(host.grant({ pid: foreign.child.pid!, ...self }));
  const { report, code } = await foreign.result;
  assert.equal(code, 1);
  assert.equal(report?.code, 'EACCES');
});
