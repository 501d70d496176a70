/**
 * The Node subscribers' checks (the same as the sink_* functions in
 * harness/c/bench.h): every message's sequence number is checked against
 * the ones seen (lost, duplicated, and reordered: below the last one seen
 * from the same publisher), its timestamp gives the
 * latency in latency phases, and a phase is reported once all of it arrived,
 * or once it went quiet for --idle-ms (a lossy system), or once a later
 * phase's message shows up.
 */
import fs from 'node:fs';
import { clientArgs, nowNs, say, stdinLines, taskNs, type ClientArgs } from './args';

const TICK_MS = 200;

/** An unsigned little-endian 32-bit word (`|` would make bit 31 a sign). */
const u32 = (m: Uint8Array, at: number): number => m[at] + m[at + 1] * 2 ** 8 + m[at + 2] * 2 ** 16 + m[at + 3] * 2 ** 24;

export interface SubscribeClient {
  close(): Promise<void>;
}

export async function runSink(subscribe: (args: ClientArgs, onMessage: (message: Uint8Array) => void) => Promise<SubscribeClient>): Promise<void> {
  const args = clientArgs();
  const { phases } = args;
  const firstSeq = [0];
  for (const p of phases) firstSeq.push(firstSeq[firstSeq.length - 1] + p.count);
  const total = firstSeq[phases.length];
  const seen = new Uint8Array((total >> 3) + 1);
  const idleNs = Number(args.optional('idle-ms') ?? 2000) * 1e6;
  const latPrefix = args.optional('lat-prefix');
  let cur = 0;
  // Per publisher: publisher P sent the phase offsets P, P+N, … (publish.ts).
  const maxSeen = new Array<number>(args.publishers).fill(-1);
  const publisherOf = (seq: number): number => {
    if (args.publishers === 1) return 0;
    let k = 0;
    while (seq >= firstSeq[k + 1]) k++;
    return (seq - firstSeq[k]) % args.publishers;
  };
  let received = 0, dup = 0, reordered = 0, firstNs = 0, lastNs = 0;
  let latencies: number[] | null = null;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));

  const open = (): void => {
    received = dup = reordered = firstNs = lastNs = 0;
    latencies = cur < phases.length && phases[cur].kind === 'lat' && latPrefix ? [] : null;
  };
  const close = (): void => {
    if (latencies) {
      const bytes = Buffer.alloc(latencies.length * 8);
      latencies.forEach((ns, k) => {
        bytes.writeUInt32LE(ns % 2 ** 32, k * 8);
        bytes.writeUInt32LE(Math.floor(ns / 2 ** 32), k * 8 + 4);
      });
      fs.writeFileSync(`${latPrefix}.${cur}`, bytes);
    }
    say({ phase: cur, received, dup, reordered, lost: phases[cur].count - received, firstNs, lastNs });
    cur++;
    open();
    if (cur >= phases.length) finish();
  };

  const onMessage = (m: Uint8Array): void => {
    const now = latencies ? nowNs() : taskNs();
    if (m.length < 16 || cur >= phases.length) return;
    const seq = u32(m, 0);
    if (seq >= total) return;
    while (seq >= firstSeq[cur + 1]) close();
    const bit = 1 << (seq & 7);
    const p = publisherOf(seq);
    if (seen[seq >> 3] & bit) dup++;
    else if (seq >= firstSeq[cur]) {
      seen[seq >> 3] |= bit;
      if (seq < maxSeen[p]) reordered++;
      received++;
    } else reordered++; // a straggler from a phase already reported
    if (seq > maxSeen[p]) maxSeen[p] = seq;
    if (!firstNs) firstNs = now;
    lastNs = now;
    if (latencies) {
      latencies.push(now - (u32(m, 8) + u32(m, 12) * 2 ** 32));
    }
    if (received === phases[cur].count) close();
  };

  // eslint-disable-next-line prefer-const -- read by the stdin handler, which may run before the assignment
  let client: SubscribeClient | undefined;
  // EOF on stdin (the harness has read our CPU time, or is gone) ends us.
  void stdinLines().next().then(async () => {
    await client?.close().catch(() => undefined);
    process.exit(0);
  });
  client = await subscribe(args, onMessage);
  open();
  say({ ready: true });
  const tick = setInterval(() => {
    if (cur < phases.length && lastNs && nowNs() - lastNs > idleNs) close();
  }, TICK_MS);
  await finished;
  clearInterval(tick);

}
