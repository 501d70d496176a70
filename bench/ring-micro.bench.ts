/**
 * Single-thread costs of the ring, with benny (benchmark.js underneath: it
 * fits in-process micro-benchmarks like these, not threaded fanout — that is
 * ring-fanout). Each case writes records and reads them back in the same
 * thread, so the ring never fills and no case ever waits: what is measured is
 * the bookkeeping and copying of one write + one read.
 *
 *   node dist/bench/ring-micro.bench.js
 *
 * Results (benny's figures plus ns per record) go to bench/results/ring-micro.json.
 */
import path from 'node:path';
import b from 'benny';
import { Ring } from '../src/ring';
import { machine, writeResults } from './lib/report';

const BATCH = 64;
const SIZES = [64, 1024];
// Compiled to dist/bench/, results belong with the sources in bench/results/.

interface CaseInfo {
  /** Records written and read by one operation, to turn ops/s into ns per record. */
  recordsPerOp: number;
  size: number;
}
const cases = new Map<string, CaseInfo>();

/** Records of `size` bytes, each stamped with its number so the read side has something real to check. */
function makeRecords(count: number, size: number): Uint8Array[] {
  return Array.from({ length: count }, (_, k) => {
    const record = new Uint8Array(size);
    new DataView(record.buffer).setInt32(0, k, true);
    return record;
  });
}

/** A fresh ring with its writer and one `block` reader, all in this thread. */
function freshRing(): { writer: ReturnType<Ring['writer']>; reader: ReturnType<Ring['reader']>; words: Int32Array } {
  const ring = Ring.create({ capacity: 1 << 20 });
  return { writer: ring.writer(), reader: ring.reader({ start: 'latest', maxBatch: BATCH }), words: new Int32Array(ring.buffer) };
}

// A sink the optimiser cannot prove unused, so reads are not eliminated.
let sink = 0;
const fail = (what: string): never => {
  throw new Error(`ring-micro: ${what}`);
};

function casesFor(size: number): ReturnType<typeof b.add>[] {
  const label = size >= 1024 ? `${size / 1024} KiB` : `${size} B`;
  const single = makeRecords(1, size)[0];
  const batch = makeRecords(BATCH, size);
  const add = (name: string, recordsPerOp: number, body: () => void): ReturnType<typeof b.add> => {
    cases.set(name, { recordsPerOp, size });
    return b.add(name, body);
  };

  const one = freshRing();
  const copies = freshRing();
  const zeroCopy = freshRing();
  return [
    add(`tryWrite + readSync, ${label}`, 1, () => {
      if (!one.writer.tryWrite(single)) fail('ring full');
      const record = one.reader.readSync(0) ?? fail('nothing to read');
      sink += record[0];
    }),
    add(`tryWrite + readSync + Buffer view, ${label}`, 1, () => {
      if (!one.writer.tryWrite(single)) fail('ring full');
      const record = one.reader.readSync(0) ?? fail('nothing to read');
      sink += Buffer.from(record.buffer, record.byteOffset, record.byteLength)[0];
    }),
    add(`tryWriteBatch + readBatchSync, ${BATCH} x ${label}`, BATCH, () => {
      if (copies.writer.tryWriteBatch(batch) !== BATCH) fail('ring full');
      const records = copies.reader.readBatchSync(BATCH, 0);
      if (records.length !== BATCH) fail('short read');
      for (let k = 0; k < records.length; k++) sink += records[k][0];
    }),
    add(`tryWriteBatch + peek/release (zero-copy), ${BATCH} x ${label}`, BATCH, () => {
      if (zeroCopy.writer.tryWriteBatch(batch) !== BATCH) fail('ring full');
      const view = zeroCopy.reader.peek(BATCH);
      if (view.count !== BATCH) fail('short peek');
      // Payloads are 8-byte aligned in the buffer: the stamp is one Int32 load.
      for (let k = 0; k < view.count; k++) sink += zeroCopy.words[view.offsets[k] >> 2];
      zeroCopy.reader.release();
    }),
  ];
}

async function main(): Promise<void> {
  const summary = await b.suite(
    'ring: single-thread costs',
    ...SIZES.flatMap(casesFor),
    b.cycle(),
    b.complete(),
  );
  const results = summary.results.map((r) => {
    const info = cases.get(r.name)!;
    return {
      name: r.name,
      size: info.size,
      recordsPerOp: info.recordsPerOp,
      opsPerSecond: r.ops,
      marginPercent: r.margin,
      samples: r.samples,
      recordsPerSecond: r.ops * info.recordsPerOp,
      nsPerRecord: 1e9 / (r.ops * info.recordsPerOp),
    };
  });
  console.log('\nns per record (one write + one read):');
  for (const r of results) console.log(`  ${r.name.padEnd(52)} ${r.nsPerRecord.toFixed(1).padStart(7)} ns  ±${r.marginPercent}%`);
  const report = {
    benchmark: 'ring-micro',
    date: new Date().toISOString(),
    ...machine(),
    results,
  };
  console.log(`\nwrote ${path.relative(process.cwd(), writeResults('ring-micro', report))} (checksum ${sink & 0xff})`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
