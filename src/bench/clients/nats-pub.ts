/** Core NATS publish with the `nats` client (--url); a flush every WINDOW messages bounds what it buffers. */
import { connect } from 'nats';
import { runPublisher } from './publish';

const FLUSH_EVERY = 1024;

void runPublisher(async (args) => {
  const nc = await connect({ servers: args.get('url') });
  const subject = args.optional('subject') ?? 'bench';
  let sent = 0;
  return {
    send: (message) => {
      nc.publish(subject, message);
      if (++sent % FLUSH_EVERY === 0) return nc.flush();
    },
    flush: () => nc.flush(),
    close: () => nc.close(),
  };
});
