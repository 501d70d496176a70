/**
 * ZeroMQ XPUB bound to --endpoint, no high-water mark (nothing is dropped);
 * ready once --subscribers subscriptions arrived, so nobody misses the start.
 */
import { XPublisher } from 'zeromq';
import { runPublisher } from './publish';

void runPublisher(async (args) => {
  const pub = new XPublisher({ sendHighWaterMark: 0, linger: 10_000 });
  pub.verbosity = 'allSubs';
  await pub.bind(args.get('endpoint'));
  for (let waiting = Number(args.get('subscribers')); waiting > 0; ) {
    const [frame] = await pub.receive();
    if (frame[0] === 1) waiting--;
  }
  // zeromq allows one send in progress per socket: each waits for the one before.
  let last: Promise<void> = Promise.resolve();
  return { send: (message) => (last = last.then(() => pub.send(message))), close: async () => pub.close() };
});
