/**
 * One thread of a baseline that moves records by postMessage
 * (BroadcastChannel, MessagePort): the writer posts one message per record,
 * each reader counts and checks the sequence number in the first 4 bytes.
 * The two baselines differ only in how a record is posted and received.
 */
import type { MessagePort } from 'node:worker_threads';
import { now, threadTimes, timesSince, type FanoutCommand, type FanoutReport, type FanoutWorkerData } from './protocol';

/** How one baseline posts a record to every reader, delivers one to this reader, and closes. */
export interface Posting {
  post(payload: Uint8Array): void;
  onRecord(handler: (record: Uint8Array) => void): void;
  close(): void;
}

export function runPostingThread(setup: FanoutWorkerData, port: MessagePort, posting: Posting): void {
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
      posting.post(payload);
    }
    const endedAt = now();
    report({ type: 'written', startedAt, endedAt, thread: timesSince(startTimes) });
  }

  if (setup.role === 'reader') {
    posting.onRecord((r) => {
      const got = r[0] | (r[1] << 8) | (r[2] << 16) | (r[3] << 24);
      if (got !== seq) outOfOrder++;
      if (r.length !== setup.size) wrongLength++;
      seq = (got + 1) | 0;
      if (++received === target) {
        const endedAt = now();
        report({ type: 'received', count: received, endedAt, outOfOrder, wrongLength, thread: timesSince(startTimes) });
      }
    });
  }

  port.on('message', (command: FanoutCommand) => {
    if (command.type === 'run') {
      if (setup.role === 'writer') return writeRound(command.count);
      target = command.count;
      received = outOfOrder = wrongLength = 0;
      startTimes = threadTimes(); // the reader's clock: an idle event loop between now and the first message costs no CPU
      return report({ type: 'armed' });
    }
    posting.close();
    report({ type: 'stopped' });
    port.close();
  });
}
