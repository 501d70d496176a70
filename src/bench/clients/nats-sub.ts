/** Core NATS subscription with the `nats` client (--url), a callback per message; ready once the server has it. */
import { connect } from 'nats';
import { runSink } from './sink';

void runSink(async (args, onMessage) => {
  const nc = await connect({ servers: args.get('url') });
  nc.subscribe(args.optional('subject') ?? 'bench', { callback: (_err, msg) => onMessage(msg.data) });
  await nc.flush();
  return { close: () => nc.close() };
});
