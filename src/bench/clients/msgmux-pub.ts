/** Publishes with msgmux's own Publisher (--queue). */
import { Publisher } from '../../index';
import { runPublisher } from './publish';

void runPublisher(async (args) => {
  const publisher = new Publisher({ queue: args.get('queue') });
  return { send: (message) => publisher.publish(message), close: () => publisher.close() };
});
