/** The msgmux subscriber clients' one loop: connect as the client says, hand every message of every batch to the checks. */
import type { ClientArgs } from './args';
import { runSink } from './sink';

interface BatchSubscriber {
  nextBatch(): Promise<readonly Uint8Array[]>;
  close(): Promise<void>;
}

export function runMsgmuxSink(connect: (args: ClientArgs) => Promise<BatchSubscriber>): void {
  void runSink(async (args, onMessage) => {
    const subscriber = await connect(args);
    void (async () => {
      for (;;) {
        const batch = await subscriber.nextBatch();
        if (batch.length === 0) return;
        for (const message of batch) onMessage(message);
      }
    })();
    return { close: () => subscriber.close() };
  });
}
