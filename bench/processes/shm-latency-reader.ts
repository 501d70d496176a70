/**
 * A reader for bench/shm-latency.bench.ts: opens the grant it is sent, says
 * 'ready', reads `count` records with the async API and sends back each
 * one's latency (ns: now minus the CLOCK_MONOTONIC stamp in its first 8 bytes).
 */
import { openShmReader, type ShmGrant } from '../../src/shm';

process.once('message', (grant: ShmGrant) => {
  const { reader } = openShmReader(grant);
  const count = Number(process.argv[2]);
  const latencies: number[] = [];
  process.send!('ready');
  void (async () => {
    while (latencies.length < count) {
      const batch = await reader.readBatch();
      const now = process.hrtime.bigint();
      for (const record of batch) latencies.push(Number(now - Buffer.from(record.buffer, record.byteOffset, 8).readBigUInt64LE(0)));
    }
    reader.close();
    process.send!(latencies, () => process.disconnect());
  })();
});
