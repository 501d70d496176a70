/**
 * The msgmux frame (coalesced datagrams, packed queue messages): round
 * trips of random message sets, the per-message header, frame limits that
 * never split a message, and malformed frames refused with a code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeFrame, entryBytes, FrameIndex, FrameWriter, FRAME_HEADER_BYTES, MESSAGE_HEADER_BYTES,
  readSequence, readStampMicros, sequenceGap, type HeaderSource,
} from '../src/wire';

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed from its seed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Messages {
  source: Uint8Array;
  offsets: Int32Array;
  lengths: Int32Array;
  headers: HeaderSource;
}

/** `count` messages of random lengths up to `maxLength`, scattered in one source buffer with gaps between them. */
function messages(rand: () => number, count: number, maxLength: number): Messages {
  const lengths = Int32Array.from({ length: count }, () => (rand() < 0.1 ? maxLength : Math.floor(rand() * (maxLength + 1))));
  const offsets = new Int32Array(count);
  let at = 0;
  for (let k = 0; k < count; k++) {
    at += Math.floor(rand() * 9);
    offsets[k] = at;
    at += lengths[k];
  }
  const source = Uint8Array.from({ length: at }, () => Math.floor(rand() * 256));
  const start = Math.floor(rand() * 2 ** 32);
  const sequences = Int32Array.from({ length: count }, (_, k) => (start + k) | 0);
  const stampsMicros = Float64Array.from({ length: count }, () => Math.floor(rand() * 2 ** 52));
  return { source, offsets, lengths, headers: { sequences, stampsMicros } };
}

/** Frames every message, frame after frame, each at most `limit` bytes (unless one message alone is larger). */
function frameAll(m: Messages, limit: number, withHeader: boolean): { out: Uint8Array; frames: [number, number][] } {
  const total = m.lengths.reduce((sum, length) => sum + entryBytes(length, true) + FRAME_HEADER_BYTES, 0);
  const writer = new FrameWriter(new Uint8Array(total));
  const frames: [number, number][] = [];
  let at = 0;
  for (let k = 0; k < m.lengths.length; ) {
    const taken = writer.frame(at, limit, m.source, m.offsets, m.lengths, k, m.lengths.length, withHeader ? m.headers : null);
    assert.ok(taken >= 1, 'every frame takes at least one message');
    frames.push([at, writer.bytes]);
    at += writer.bytes;
    k += taken;
  }
  return { out: writer.out, frames };
}

test('random message sets survive framing byte for byte, in order, with and without headers (fuzzed)', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const rand = random(seed);
    const withHeader = seed % 2 === 0;
    const maxLength = [0, 1, 64, 700, 9000][seed % 5];
    const m = messages(rand, 1 + Math.floor(rand() * 200), maxLength);
    const limit = FRAME_HEADER_BYTES + Math.floor(rand() * 4 * (maxLength + 20));
    const { out, frames } = frameAll(m, limit, withHeader);
    const index = new FrameIndex(4);
    for (const [start, length] of frames) {
      const alone = decodeFrame(out, start, length, new FrameIndex());
      assert.ok(length <= limit || alone === 1, `seed ${seed}: a frame over the limit holds one message only`);
      decodeFrame(out, start, length, index);
    }
    assert.equal(index.count, m.lengths.length, `seed ${seed}: every message, once`);
    assert.equal(index.withHeader, withHeader);
    const view = new DataView(out.buffer);
    for (let k = 0; k < index.count; k++) {
      const got = out.subarray(index.offsets[k], index.offsets[k] + index.lengths[k]);
      assert.deepEqual(got, m.source.subarray(m.offsets[k], m.offsets[k] + m.lengths[k]), `seed ${seed}: message ${k}`);
      if (withHeader) {
        assert.equal(readSequence(view, index.headerAt[k]), m.headers.sequences[k] >>> 0);
        assert.equal(readStampMicros(view, index.headerAt[k]), m.headers.stampsMicros[k]);
      }
    }
  }
});

test('the frame is laid out as documented: version, flags, count, then length-prefixed entries', () => {
  const source = Uint8Array.from([0xaa, 0xbb, 0xcc]);
  const writer = new FrameWriter(new Uint8Array(64));
  const headers = { sequences: Int32Array.of(7, 8), stampsMicros: Float64Array.of(2 ** 32 + 5, 1) };
  assert.equal(writer.frame(0, 64, source, Int32Array.of(0, 2), Int32Array.of(2, 1), 0, 2, null), 2);
  assert.deepEqual([...writer.out.subarray(0, writer.bytes)], [1, 0, 2, 0, 2, 0, 0, 0, 0xaa, 0xbb, 1, 0, 0, 0, 0xcc]);
  assert.equal(writer.frame(0, 64, source, Int32Array.of(2), Int32Array.of(1), 0, 1, { sequences: headers.sequences, stampsMicros: headers.stampsMicros }), 1);
  assert.deepEqual(
    [...writer.out.subarray(0, writer.bytes)],
    [1, 1, 1, 0, 1, 0, 0, 0, 7, 0, 0, 0, 5, 0, 0, 0, 1, 0, 0, 0, 0xcc],
  );
  assert.equal(MESSAGE_HEADER_BYTES, 12);
});

test('a message never splits: one larger than the limit travels alone, the next starts a new frame', () => {
  const source = new Uint8Array(5000).fill(9);
  const writer = new FrameWriter(new Uint8Array(6000));
  const offsets = Int32Array.of(0, 10, 4000);
  const lengths = Int32Array.of(10, 3990, 1000);
  assert.equal(writer.frame(0, 100, source, offsets, lengths, 0, 3, null), 1, 'the second message would pass the limit');
  assert.equal(writer.frame(0, 100, source, offsets, lengths, 1, 3, null), 1, 'a message over the limit goes alone');
  assert.equal(writer.bytes, FRAME_HEADER_BYTES + entryBytes(3990, false));
});

test('malformed frames are refused with ERR_MSGMUX_BAD_FRAME and add nothing to the index', () => {
  const good = new FrameWriter(new Uint8Array(64));
  good.frame(0, 64, Uint8Array.of(1, 2, 3), Int32Array.of(0, 1), Int32Array.of(1, 2), 0, 2, null);
  const frame = good.out.slice(0, good.bytes);
  const cases: [string, Uint8Array][] = [
    ['too short', frame.subarray(0, 3)],
    ['unknown version', Uint8Array.from([2, ...frame.subarray(1)])],
    ['unknown flag', Uint8Array.from([1, 0x80, ...frame.subarray(2)])],
    ['zero count', Uint8Array.from([1, 0, 0, 0])],
    ['truncated entry', frame.subarray(0, frame.length - 1)],
    ['trailing bytes', Uint8Array.from([...frame, 0])],
    ['count larger than entries', Uint8Array.from([1, 0, 3, 0, ...frame.subarray(4)])],
  ];
  for (const [what, bytes] of cases) {
    const index = new FrameIndex();
    assert.throws(() => decodeFrame(bytes, 0, bytes.length, index), { code: 'ERR_MSGMUX_BAD_FRAME' }, what);
    assert.equal(index.count, 0, `${what}: nothing decoded`);
  }
});

test('random bytes never decode into messages outside the frame (fuzzed)', () => {
  const rand = random(99);
  for (let n = 0; n < 2000; n++) {
    const bytes = Uint8Array.from({ length: Math.floor(rand() * 40) }, () => Math.floor(rand() * 256));
    if (bytes.length > 0 && rand() < 0.5) bytes[0] = 1;
    if (bytes.length > 1 && rand() < 0.5) bytes[1] = rand() < 0.5 ? 0 : 1;
    const index = new FrameIndex();
    try {
      decodeFrame(bytes, 0, bytes.length, index);
    } catch (err) {
      assert.equal((err as { code?: string }).code, 'ERR_MSGMUX_BAD_FRAME');
      continue;
    }
    for (let k = 0; k < index.count; k++) assert.ok(index.offsets[k] + index.lengths[k] <= bytes.length);
  }
});

test('sequence gaps count the messages in between, across the 2^32 wrap', () => {
  assert.equal(sequenceGap(5, 6), 0);
  assert.equal(sequenceGap(5, 9), 3);
  assert.equal(sequenceGap(0xffffffff, 0), 0);
  assert.equal(sequenceGap(0xfffffffe, 2), 3);
});
