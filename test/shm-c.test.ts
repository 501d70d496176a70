/**
 * include/msgmux_ring.h: its constants are the ring layout's, and a reader
 * process in C (compiled here with cc) reads what a Node writer writes, in order.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { GUARD_STATE, HEADER_BYTES, Header, MAGIC, PAD, RECORD_HEADER_BYTES, SLOT_BYTES, Slot, SlotState, VERSION } from '../src/ring/layout';
import { ShmRing } from '../src/shm';
import { ROOT } from './helpers/daemon';
import { removeShmFiles, uniqueShmName } from './helpers/shm';

test.after(removeShmFiles);

const HEADER_FILE = path.join(ROOT, 'include', 'msgmux_ring.h');

test('msgmux_ring.h holds the layout of src/ring/layout.ts', () => {
  const defines = new Map([...readFileSync(HEADER_FILE, 'utf8').matchAll(/^#define (MSGMUX_\w+) (\S+)/gm)].map((m) => [m[1], m[2]] as const));
  const value = (name: string): number => {
    const text = defines.get(name);
    assert.ok(text !== undefined, `${name} is defined`);
    return Number(text.replace(/^\((.*)\)$/, '$1'));
  };
  assert.equal(value('MSGMUX_RING_MAGIC'), MAGIC);
  assert.equal(value('MSGMUX_RING_VERSION'), VERSION);
  assert.equal(value('MSGMUX_HEADER_BYTES'), HEADER_BYTES);
  assert.equal(value('MSGMUX_SLOT_BYTES'), SLOT_BYTES);
  assert.equal(value('MSGMUX_RECORD_HEADER_BYTES'), RECORD_HEADER_BYTES);
  assert.equal(value('MSGMUX_PAD'), PAD);
  for (const [key, word] of Object.entries(Header)) if (defines.has(`MSGMUX_H_${key}`)) assert.equal(value(`MSGMUX_H_${key}`), word, key);
  for (const [key, word] of Object.entries(Slot)) if (defines.has(`MSGMUX_S_${key}`)) assert.equal(value(`MSGMUX_S_${key}`), word, key);
  assert.equal(value('MSGMUX_GUARD_STATE'), GUARD_STATE);
  assert.equal(value('MSGMUX_STATE_ACTIVE'), SlotState.ACTIVE);
  assert.equal(value('MSGMUX_STATE_EVICTED'), SlotState.EVICTED);
  const named = [...defines.keys()].filter((k) => /^MSGMUX_[HS]_/.test(k)).length;
  assert.ok(named >= 16, `the header and slot words the reader uses are all compared (${named})`);
});

test('a reader process in C gets every record a Node writer writes, in order, across many wraps', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'msgmux-c-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const binary = path.join(dir, 'shm-reader');
  const source = path.join(ROOT, 'test', 'fixtures', 'shm-reader.c');
  await promisify(execFile)('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-I', path.dirname(HEADER_FILE), '-o', binary, source, '-lrt']);

  const host = ShmRing.create({ name: uniqueShmName(), capacity: 1 << 14, processReaders: 2 });
  t.after(() => host.close());
  const total = 20_000;
  const child = spawn(binary, [String(total)], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const grant = host.grant({ pid: child.pid!, uid: process.getuid!(), gid: process.getgid!(), policy: 'block' });
  child.stdin.end(`${grant.ring} ${grant.readerSlot} ${grant.slotFile}\n`);

  // Lengths 4 to 203 bytes: records end at every alignment, so the writer pads the ring's end often.
  const writer = host.ring.writer();
  for (let n = 0; n < total; n += 100) {
    const batch = Array.from({ length: 100 }, (_, i) => {
      const record = new Uint8Array(4 + ((n + i) % 200)).fill(0xab);
      new DataView(record.buffer).setUint32(0, n + i, true);
      return record;
    });
    await writer.writeBatch(batch);
  }
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, output);
  assert.deepEqual(JSON.parse(output), { received: total, inOrder: true, first: 0, last: total - 1 });
});
