/** The NATS bridge thread (src/bridge/nats-bridge.ts): posts 'ready' or 'failed', then status events; 'stop' drains and ends it. */
import { parentPort, workerData } from 'node:worker_threads';
import { NatsBridge, type BridgeEvent, type NatsBridgeTask } from '../src/bridge/nats-bridge';

const post = (event: BridgeEvent) => parentPort!.postMessage(event);

NatsBridge.start(workerData as NatsBridgeTask, post).then(
  (bridge) => {
    post({ type: 'ready' });
    parentPort!.once('message', (message: { stop: number }) => {
      void bridge.stop(message.stop).then((event) => {
        post(event);
        parentPort!.close();
      });
    });
  },
  (err: { code?: string; message?: string }) => {
    post({ type: 'failed', code: err.code ?? 'ERR_MSGMUX_NATS', message: err.message ?? 'the NATS bridge failed to start' });
    parentPort!.close();
  },
);
