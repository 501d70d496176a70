/**
 * One thread of the MessagePort baseline: the writer posts each record to
 * every reader's port (one MessageChannel per reader), each reader counts
 * and checks the sequence number in the first 4 bytes.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { now, threadTimes, timesSince, type FanoutCommand, type FanoutReport, type FanoutWorkerData } from '../../src/bench/inproc/protocol';

const setup = workerData as FanoutWorkerData;
const port = parentPort!;
const ports: MessagePort[] = setup.ports ?? [];
const report = (message: FanoutReport): void => port.postMessage(message);

let seq = 0;
let target = 0;
let received = 0;
let outOfOrder = 0;
let wrongLength = 0;
let startTimes = threadTimes();

function writeRound(count: number): void {
  const payload = new Uint8Array(setup.size);
  const seqWord = new Int32Array(payload.buffer, 0, 1);
  startTimes = threadTimes();
  const startedAt = now();
  setup.clock[0] = startedAt;
  for (let k = 0; k < count; k++) {
    seqWord[0] = seq++;
    for (const reader of ports) reader.postMessage(payload); // structured clone per reader
  }
  report({ type: 'written', startedAt, endedAt: now(), thread: timesSince(startTimes) });
}

if (setup.role === 'reader') {
  ports[0].on('message', (r: Uint8Array) => {
    const got = r[0] | (r[1] << 8) | (r[2] << 16) | (r[3] << 24);
    if (got !== seq) outOfOrder++;
    if (r.length !== setup.size) wrongLength++;
    seq = (got + 1) | 0;
    if (++received === target) report({ type: 'received', count: received, endedAt: now(), outOfOrder, wrongLength, thread: timesSince(startTimes) });
  });
}

port.on('message', (command: FanoutCommand) => {
  if (command.type === 'run') {
    if (setup.role === 'writer') return writeRound(command.count);
    target = command.count;
    received = outOfOrder = wrongLength = 0;
    startTimes = threadTimes();
    return report({ type: 'armed' });
  }
  for (const p of ports) p.close();
  report({ type: 'stopped' });
  port.close();
});
