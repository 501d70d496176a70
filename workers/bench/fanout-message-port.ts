/** One thread of the MessagePort baseline: the writer posts each record to every reader's port (one MessageChannel per reader). */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { FanoutWorkerData } from '../../src/bench/inproc/protocol';
import { runPostingThread } from '../../src/bench/inproc/posting-thread';

const setup = workerData as FanoutWorkerData;
const ports: MessagePort[] = setup.ports ?? [];

runPostingThread(setup, parentPort!, {
  post: (payload) => {
    for (const reader of ports) reader.postMessage(payload); // structured clone per reader
  },
  onRecord: (handler) => ports[0].on('message', handler),
  close: () => {
    for (const p of ports) p.close();
  },
});
