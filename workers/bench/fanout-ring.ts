/**
 * One thread of the ring fanout benchmark: the ring's single writer, or one
 * `block` reader. Each record carries its sequence number in its first 4
 * bytes (little-endian), so a reader checks order with one load per record.
 */
import { parentPort, workerData } from 'node:worker_threads';
// The ring module itself, not the package root: the root also exports the
// publisher, whose native module (posix-mq) cannot load in a worker thread.
import { Ring, type RingReader, type RingWriter } from '../../src/ring';
import { now, STALL_TIMEOUT_MS, threadTimes, timesSince, type FanoutCommand, type FanoutReport, type FanoutWorkerData } from '../../src/bench/inproc/protocol';

const setup = workerData as FanoutWorkerData;
const port = parentPort!;
const ring = Ring.attach(setup.ringBuffer!);
const report = (message: FanoutReport): void => port.postMessage(message);
const perRecord = setup.transport === 'ring-single';

/** Writes `count` records per round with writeBatchSync, `batch` records per call, or one tryWrite per record. */
function makeWriter(): { round(count: number): void; close(): void } {
  const writer: RingWriter = ring.writer();
  // All records of one batch live in one buffer, 4-byte aligned, so one
  // Int32Array stamps every sequence number without a view per record.
  const stride = (setup.size + 3) & ~3;
  const backing = new ArrayBuffer(stride * setup.batch);
  const seqWords = new Int32Array(backing);
  const wordsPerRecord = stride >> 2;
  const fullBatch = Array.from({ length: setup.batch }, (_, k) => new Uint8Array(backing, k * stride, setup.size));
  let seq = 0;
  return {
    round(count) {
      const startTimes = threadTimes();
      const startedAt = now();
      setup.clock[0] = startedAt;
      for (let sent = 0; sent < count; ) {
        const n = Math.min(setup.batch, count - sent);
        for (let k = 0; k < n; k++) seqWords[k * wordsPerRecord] = seq++;
        if (perRecord) {
          // One call per record, as an application writing messages one by one does.
          for (let k = 0; k < n; k++) {
            if (!writer.tryWrite(fullBatch[k]) && !writer.writeSync(fullBatch[k], STALL_TIMEOUT_MS)) {
              throw new Error('writer stalled: a reader stopped reading');
            }
          }
          sent += n;
          continue;
        }
        const records = n === setup.batch ? fullBatch : fullBatch.slice(0, n);
        if (writer.writeBatchSync(records, STALL_TIMEOUT_MS) !== n) throw new Error('writer stalled: a reader stopped reading');
        sent += n;
      }
      const endedAt = now();
      report({ type: 'written', startedAt, endedAt, thread: timesSince(startTimes) });
    },
    close: () => writer.close(),
  };
}

/** Reads `count` records per round, copying (readBatchSync, or readSync per record) or zero-copy (peekSync + release). */
function makeReader(): { round(count: number): void; close(): void } {
  const reader: RingReader = ring.reader({ start: 'earliest', policy: 'block', maxBatch: setup.batch });
  const ringWords = new Int32Array(ring.buffer);
  let expected = 0;
  let outOfOrder = 0;
  let wrongLength = 0;
  const check = (seq: number, length: number): void => {
    if (seq !== expected) outOfOrder++;
    if (length !== setup.size) wrongLength++;
    expected = (seq + 1) | 0;
  };

  const copyingRound = (count: number): void => {
    for (let received = 0; received < count; ) {
      const records = reader.readBatchSync(setup.batch, STALL_TIMEOUT_MS);
      if (records.length === 0) throw new Error('reader stalled: the writer stopped writing');
      for (let k = 0; k < records.length; k++) {
        const r = records[k];
        check(r[0] | (r[1] << 8) | (r[2] << 16) | (r[3] << 24), r.length);
      }
      received += records.length;
    }
  };

  // One readSync per record, each used as a Buffer (which it is) the way an application would.
  const singleRound = (count: number): void => {
    for (let received = 0; received < count; received++) {
      const r = reader.readSync(STALL_TIMEOUT_MS);
      if (r === null) throw new Error('reader stalled: the writer stopped writing');
      check(r.readInt32LE(0), r.length);
    }
  };

  const zeroCopyRound = (count: number): void => {
    for (let received = 0; received < count; ) {
      const batch = reader.peekSync(setup.batch, STALL_TIMEOUT_MS);
      if (batch.count === 0) throw new Error('reader stalled: the writer stopped writing');
      // Payloads start 8-byte aligned in the buffer, so the sequence is one Int32 load.
      for (let k = 0; k < batch.count; k++) check(ringWords[batch.offsets[k] >> 2], batch.lengths[k]);
      received += batch.count;
      reader.release();
    }
  };

  const read = setup.transport === 'ring-zero-copy' ? zeroCopyRound : perRecord ? singleRound : copyingRound;
  return {
    round(count) {
      outOfOrder = wrongLength = 0;
      report({ type: 'armed' });
      const startTimes = threadTimes();
      read(count);
      const endedAt = now();
      report({ type: 'received', count, endedAt, outOfOrder, wrongLength, thread: timesSince(startTimes) });
    },
    close: () => reader.close(),
  };
}

// Join (or take the writer) at once: the main thread starts the writer only
// after every reader has reported `armed`, so every reader sees every record.
const part = setup.role === 'writer' ? makeWriter() : makeReader();
port.on('message', (command: FanoutCommand) => {
  if (command.type === 'run') return part.round(command.count);
  part.close();
  report({ type: 'stopped' });
  port.close();
});
