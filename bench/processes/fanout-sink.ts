/**
 * One sink of the daemon fanout benchmark, as its own process: binds an
 * abstract datagram address, prints {"ready":true}, and is registered by the
 * benchmark. Then for each round it receives (recvmmsg batches) until it has
 * the round's message count, checks every message's size and per-publisher
 * sequence number, and prints a SinkRoundReport line. It exits after the last
 * round, or after printing a stalled report when nothing came for --stall-ms.
 *
 *   node fanout-sink.js --bind @name --size 64 --rounds 2000,20000,20000 [--stall-ms 15000]
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { DgramSocket } from 'msgmux/native';
import { nowNs, PUBLISHER_OFFSET, SEQUENCE_OFFSET, type SinkRoundReport } from './fanout-protocol';

const BATCH = 256;
/** Larger than any message, so a datagram that is too long shows up as such. */
const SLOT = 2048;
const RECEIVE_BUFFER = 4 << 20;

const { values } = parseArgs({
  options: {
    bind: { type: 'string' },
    size: { type: 'string' },
    rounds: { type: 'string' },
    'stall-ms': { type: 'string', default: '15000' },
  },
});
if (!values.bind || !values.size || !values.rounds) throw new Error('usage: --bind ADDR --size BYTES --rounds N,N,...');
const size = Number(values.size);
const rounds = values.rounds.split(',').map(Number);
const stallMs = Number(values['stall-ms']);
if (!rounds.every((n) => Number.isInteger(n) && n > 0)) throw new Error(`--rounds needs positive integers, got ${values.rounds}`);

const socket = new DgramSocket({ nonBlocking: true });
socket.bind(values.bind);
socket.setRecvBufferSize(RECEIVE_BUFFER);
const slots = new Uint8Array(SLOT * BATCH);
const view = new DataView(slots.buffer);
const lengths = new Int32Array(BATCH);
/** Next sequence number expected from each publisher; -1 until its first message. */
const expected = new Float64Array(256).fill(-1);

const print = (report: object): void => void fs.writeSync(1, `${JSON.stringify(report)}\n`);

function receiveRound(round: number, count: number): SinkRoundReport {
  const report: SinkRoundReport = { round, received: 0, firstNs: 0, lastNs: 0, missing: 0, outOfOrder: 0, wrongLength: 0, stalled: false };
  while (report.received < count) {
    const n = socket.recvBatch(slots, SLOT, Math.min(BATCH, count - report.received), lengths);
    if (n === 0) {
      if (!socket.poll({ readable: true }, stallMs).readable) return { ...report, stalled: true };
      continue;
    }
    const at = nowNs();
    if (report.received === 0) report.firstNs = at;
    report.lastNs = at;
    report.received += n;
    for (let i = 0; i < n; i++) {
      if (lengths[i] !== size) {
        report.wrongLength++;
        continue;
      }
      const publisher = slots[i * SLOT + PUBLISHER_OFFSET];
      const sequence = view.getUint32(i * SLOT + SEQUENCE_OFFSET, true);
      const next = expected[publisher];
      if (next >= 0 && sequence < next) report.outOfOrder++;
      else {
        if (next >= 0) report.missing += sequence - next;
        expected[publisher] = sequence + 1;
      }
    }
  }
  return report;
}

print({ ready: true });
try {
  for (let round = 0; round < rounds.length; round++) {
    const report = receiveRound(round, rounds[round]);
    print(report);
    if (report.stalled) {
      process.exitCode = 1;
      break;
    }
  }
} finally {
  socket.close();
}
