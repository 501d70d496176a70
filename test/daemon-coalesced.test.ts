/**
 * Coalesced delivery and the per-message header, end to end with a real
 * daemon process: a Subscriber (coalesced by default) and raw sockets that
 * decode the documented framing themselves, beside a plain sink.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DgramSocket, MessageQueue } from 'msgmux/native';
import { controlCall } from '../src/control-client';
import { Subscriber } from '../src/subscriber';
import { decodeFrame, FrameIndex, MESSAGE_HEADER_BYTES, nowMicros, readSequence, readStampMicros, sequenceGap } from '../src/wire';
import { cleanup, startDaemon, statsWhen, uniqueName, type Proc } from './helpers/daemon';

const MAX_MESSAGE = 8192;

/** Message k: its number in the first 4 bytes, then a byte pattern; sizes cycle through small, odd, and the largest. */
function message(k: number): Uint8Array {
  const sizes = [4, 64, 1000, 4097, MAX_MESSAGE, 7, 300];
  const bytes = new Uint8Array(sizes[k % sizes.length]);
  new DataView(bytes.buffer).setUint32(0, k, true);
  for (let i = 4; i < bytes.length; i++) bytes[i] = (k + i) & 255;
  return bytes;
}

function publishAll(queue: string, count: number): void {
  const q = MessageQueue.open(queue, { read: false, write: true });
  try {
    for (let k = 0; k < count; k++) q.send(message(k));
  } finally {
    q.close();
  }
}

/** A raw datagram socket the test reads itself: every datagram, as received. */
class RawSink {
  readonly socket = new DgramSocket({ nonBlocking: true });
  readonly datagrams: Uint8Array[] = [];
  private readonly buffer = new Uint8Array(1 << 17);

  constructor(readonly name: string) {
    this.socket.bind(name);
  }

  /** Reads until `done()` says enough; without blocking the event loop (the Subscriber's batches arrive meanwhile). */
  async readUntil(done: () => boolean): Promise<void> {
    const deadline = Date.now() + 30_000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`${this.name}: timed out after ${this.datagrams.length} datagrams`);
      try {
        const { length } = this.socket.recv(this.buffer);
        this.datagrams.push(this.buffer.slice(0, length));
      } catch (err) {
        if ((err as { code?: string }).code !== 'EAGAIN') throw err;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    }
  }

  /** The messages of every datagram, decoding the frames (coalesced) or taking datagrams whole. */
  messages(framed: boolean, header: boolean): { bytes: Uint8Array[]; sequences: number[]; stamps: number[] } {
    const bytes: Uint8Array[] = [];
    const sequences: number[] = [];
    const stamps: number[] = [];
    for (const d of this.datagrams) {
      const view = new DataView(d.buffer, d.byteOffset, d.byteLength);
      if (!framed) {
        if (header) sequences.push(readSequence(view, 0));
        if (header) stamps.push(readStampMicros(view, 0));
        bytes.push(d.subarray(header ? MESSAGE_HEADER_BYTES : 0));
        continue;
      }
      const index = new FrameIndex();
      decodeFrame(d, 0, d.length, index);
      for (let k = 0; k < index.count; k++) {
        bytes.push(d.subarray(index.offsets[k], index.offsets[k] + index.lengths[k]));
        if (header) sequences.push(readSequence(view, index.headerAt[k]));
        if (header) stamps.push(readStampMicros(view, index.headerAt[k]));
      }
    }
    return { bytes, sequences, stamps };
  }
}

test('coalesced sinks get every message once, in order (largest ones and boundary-forcing sizes); a plain sink beside them gets one per datagram', async (t) => {
  const queue = `/${uniqueName('q')}`;
  const control = `@${uniqueName('ctl')}`;
  const procs: Proc[] = [];
  const raws: RawSink[] = [];
  let subscriber: Subscriber | null = null;
  t.after(async () => {
    await subscriber?.close();
    for (const raw of raws) raw.socket.close();
    cleanup(procs, [queue]);
  });
  const daemon = await startDaemon(queue, control, ['--max-message', String(MAX_MESSAGE)]);
  procs.push(daemon);

  subscriber = await Subscriber.connect({ control });
  const plain = new RawSink(`@${uniqueName('plain')}`);
  const coalesced = new RawSink(`@${uniqueName('coalesced')}`);
  raws.push(plain, coalesced);
  await controlCall(control, { op: 'subscribe', path: plain.name }); // bare options: plain framing
  await controlCall(control, { op: 'subscribe', path: coalesced.name, framing: 'coalesced', header: true });

  const count = 3000;
  const fromSubscriber: Uint8Array[] = [];
  const received = (async () => {
    for await (const batch of subscriber.batches()) {
      for (const m of batch) fromSubscriber.push(m.slice());
      if (fromSubscriber.length >= count) return;
    }
  })();
  publishAll(queue, count);
  // The raw coalesced sink reads nothing until every message is in the ring: its socket fills
  // and the rest waits in the ring, so what follows must travel many to a datagram.
  await statsWhen(control, 'every message ingested', (s) => s.ingested === count);
  await Promise.all([
    received,
    plain.readUntil(() => plain.datagrams.length >= count),
    coalesced.readUntil(() => coalesced.messages(true, true).bytes.length >= count),
  ]);

  const expected = Array.from({ length: count }, (_, k) => message(k));
  assert.deepEqual(fromSubscriber, expected, 'the Subscriber: every message once, in order, byte for byte');
  assert.deepEqual(plain.datagrams, expected, 'the plain sink: each datagram is exactly one message');
  const decoded = coalesced.messages(true, true);
  assert.deepEqual(decoded.bytes, expected, 'the raw coalesced sink decodes the documented frames to every message');
  assert.ok(coalesced.datagrams.length < count / 2, `messages share datagrams (${coalesced.datagrams.length} datagrams for ${count})`);
  assert.ok(coalesced.datagrams.every((d) => d.length <= 65536 || decodeFrame(d, 0, d.length, new FrameIndex()) === 1), 'only a lone message exceeds 64 KiB');
  for (let k = 1; k < count; k++) assert.equal(sequenceGap(decoded.sequences[k - 1], decoded.sequences[k]), 0, `sequence ${k} follows ${k - 1}`);

  const stats = await statsWhen(control, 'all delivered', (s) => s.sinks.every((sink) => sink.delivered === count));
  assert.deepEqual(stats.sinks.map((s) => s.framing).sort(), ['coalesced', 'coalesced', 'plain']);
  assert.equal(await daemon.stop(), 0);
});

test('header sequences are consecutive, and messages a drop sink lost show as gaps that add up to what it dropped', async (t) => {
  const queue = `/${uniqueName('q')}`;
  const control = `@${uniqueName('ctl')}`;
  const procs: Proc[] = [];
  const lossy = new RawSink(`@${uniqueName('lossy')}`);
  const plainHeader = new RawSink(`@${uniqueName('hdr')}`);
  t.after(() => {
    lossy.socket.close();
    plainHeader.socket.close();
    cleanup(procs, [queue]);
  });
  const daemon = await startDaemon(queue, control, ['--max-message', '64', '--ring-size', '64K']);
  procs.push(daemon);
  await controlCall(control, { op: 'subscribe', path: lossy.name, framing: 'coalesced', header: true, policy: 'drop' });
  await controlCall(control, { op: 'subscribe', path: plainHeader.name, header: true });

  // The lossy sink does not read while 20,000 messages pass (the ring holds ~900): it must lose some.
  const count = 20_000;
  const sendStart = nowMicros();
  const q = MessageQueue.open(queue, { read: false, write: true });
  const sending = (async () => {
    try {
      for (let k = 0; k < count; k++) {
        const m = new Uint8Array(8);
        new DataView(m.buffer).setUint32(0, k, true);
        while (!q.timedSend(m, 0, 0)) await new Promise((resolve) => setTimeout(resolve, 1)); // full: let the reads run
      }
    } finally {
      q.close();
    }
  })();
  const readPlain = plainHeader.readUntil(() => plainHeader.datagrams.length >= count);
  await sending;
  await readPlain;
  const received = nowMicros();
  const stats = await statsWhen(control, 'the lossy sink settled', (s) => {
    const sink = s.sinks.find((x) => x.path === lossy.name);
    return sink !== undefined && sink.delivered + sink.dropped === count ? true : false;
  });
  const lossyStats = stats.sinks.find((x) => x.path === lossy.name)!;
  assert.ok(lossyStats.dropped > 0, 'the sink that did not read lost messages');
  await lossy.readUntil(() => lossy.messages(true, true).bytes.length >= lossyStats.delivered);

  const { sequences: plainSeq, stamps: plainStamps } = plainHeader.messages(false, true);
  for (let k = 1; k < count; k++) assert.equal(sequenceGap(plainSeq[k - 1], plainSeq[k]), 0, `block sink: sequence ${k} follows ${k - 1}`);
  // The ingest stamp (kept beside the ring, by record number) is when ingest took each message: during the run (a second
  // of slack for the two processes' clocks), in order.
  for (let k = 0; k < count; k++) {
    assert.ok(plainStamps[k] >= sendStart - 1e6 && plainStamps[k] <= received + 1e6, `stamp ${k} (${plainStamps[k]}) within the run`);
    if (k > 0) assert.ok(plainStamps[k] >= plainStamps[k - 1], `stamp ${k} not before stamp ${k - 1}`);
  }
  const { bytes, sequences, stamps } = lossy.messages(true, true);
  for (const [k, stamp] of stamps.entries()) assert.ok(stamp >= sendStart - 1e6 && stamp <= received + 1e6, `lossy sink: stamp ${k} within the run`);
  let gaps = 0;
  for (let k = 1; k < sequences.length; k++) {
    const gap = sequenceGap(sequences[k - 1], sequences[k]);
    const n = new DataView(bytes[k].buffer, bytes[k].byteOffset).getUint32(0, true);
    const before = new DataView(bytes[k - 1].buffer, bytes[k - 1].byteOffset).getUint32(0, true);
    assert.equal(n - before - 1, gap, 'a gap in the sequence is exactly the messages missing');
    gaps += gap;
  }
  const first = new DataView(bytes[0].buffer, bytes[0].byteOffset).getUint32(0, true);
  assert.equal(gaps + first + (count - 1 - new DataView(bytes.at(-1)!.buffer, bytes.at(-1)!.byteOffset).getUint32(0, true)), lossyStats.dropped,
    'the gaps (and what was lost before the first and after the last) add up to what the daemon reports dropped');
  assert.equal(await daemon.stop(), 0);
});
