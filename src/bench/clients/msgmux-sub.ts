/** Subscribes with msgmux's own Subscriber (--control), policy block: lossless. */
import { Subscriber } from '../../index';
import { runSink } from './sink';

void runSink(async (args, onMessage) => {
  const subscriber = await Subscriber.connect({ control: args.get('control'), policy: 'block', maxMessage: Math.max(args.size, 8192) });
  void (async () => {
    for (;;) {
      const batch = await subscriber.nextBatch();
      if (batch.length === 0) return;
      for (const message of batch) onMessage(message);
    }
  })();
  return { close: () => subscriber.close() };
});
