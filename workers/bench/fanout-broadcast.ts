/** One thread of the BroadcastChannel baseline: one channel, every reader gets each post. */
import { BroadcastChannel, parentPort, workerData } from 'node:worker_threads';
import type { FanoutWorkerData } from '../../src/bench/inproc/protocol';
import { runPostingThread } from '../../src/bench/inproc/posting-thread';

const setup = workerData as FanoutWorkerData;
const channel = new BroadcastChannel(setup.channelName!);

runPostingThread(setup, parentPort!, {
  post: (payload) => channel.postMessage(payload), // structured clone: each reader gets its own copy
  onRecord: (handler) => {
    channel.onmessage = (event: unknown) => handler((event as { data: Uint8Array }).data);
  },
  close: () => channel.close(),
});
