/** Reads the daemon's ring in shared memory (--control to attach), policy block: lossless. */
import { Subscriber } from '../../index';
import { runSink } from './sink';

void runSink(async (args, onMessage) => {
  const subscriber = await Subscriber.connect({ transport: 'shm', control: args.get('control'), policy: 'block' });
  void (async () => {
    for (;;) {
      const batch = await subscriber.nextBatch();
      if (batch.length === 0) return;
      for (const message of batch) onMessage(message);
    }
  })();
  return { close: () => subscriber.close() };
});
