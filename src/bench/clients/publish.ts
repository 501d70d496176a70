/**
 * The Node publishers' phase loop (the same as publish_phases in
 * harness/c/bench.h): on each "go" from the harness, stamp and send this
 * publisher's share of the phase's messages (offsets P, P+N, … of N), as
 * fast as `send` takes them or paced at the phase's rate (offset i is due at
 * i/rate, so N publishers together keep it), then report. `send` may
 * return a promise: at most WINDOW are in flight, so a client library that
 * queues without bound cannot run away.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { clientArgs, nowNs, say, stdinLines, taskNs, type ClientArgs } from './args';

const WINDOW = 256;

export interface PublishClient {
  send(message: Buffer): void | Promise<void>;
  /** Resolves once everything sent has left (e.g. a flush or the last reply). */
  flush?(): Promise<void>;
  close(): Promise<void>;
}

function stamp(size: number, seq: number, ns: number): Buffer {
  const message = Buffer.alloc(Math.max(16, size), 0x5a);
  message.writeUInt32LE(seq >>> 0, 0);
  message.writeUInt32LE(Math.floor(seq / 2 ** 32), 4);
  message.writeUInt32LE(ns % 2 ** 32, 8);
  message.writeUInt32LE(Math.floor(ns / 2 ** 32), 12);
  return message;
}

export async function runPublisher(connect: (args: ClientArgs) => Promise<PublishClient>): Promise<void> {
  const args = clientArgs();
  const client = await connect(args);
  const input = stdinLines();
  say({ ready: true });
  let first = 0;
  for (const [k, phase] of args.phases.entries()) {
    if ((await input.next()) === null) break;
    const startNs = nowNs();
    let inFlight: Promise<void>[] = [];
    let sent = 0;
    for (let i = args.publisher; i < phase.count; i += args.publishers) {
      if (phase.rate > 0) {
        const aheadMs = (startNs + (i * 1e9) / phase.rate - nowNs()) / 1e6;
        if (aheadMs >= 1) await sleep(Math.floor(aheadMs));
        else if (i % 64 === 0) await new Promise(setImmediate); // let the client's I/O run between due messages
      }
      // Latency phases measure from the stamp: their clock is read per message.
      const pending = client.send(stamp(args.size, first + i, phase.kind === 'lat' ? nowNs() : taskNs()));
      sent++;
      if (pending) inFlight.push(pending);
      if (inFlight.length >= WINDOW) {
        await Promise.all(inFlight);
        inFlight = [];
      }
    }
    await Promise.all(inFlight);
    first += phase.count;
    await client.flush?.();
    say({ phase: k, sent, startNs, endNs: nowNs() });
  }
  await input.next(); // EOF: the harness has read our CPU time
  await client.close();
  process.exit(0);
}
