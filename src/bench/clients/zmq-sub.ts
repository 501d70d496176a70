/** ZeroMQ SUB connected to --endpoint, every topic, no high-water mark. */
import { Subscriber } from 'zeromq';
import { runSink } from './sink';

void runSink(async (args, onMessage) => {
  const sub = new Subscriber({ receiveHighWaterMark: 0 });
  sub.connect(args.get('endpoint'));
  sub.subscribe();
  void (async () => {
    for await (const [message] of sub) onMessage(message);
  })().catch(() => undefined); // ends when the socket closes
  return { close: async () => sub.close() };
});
