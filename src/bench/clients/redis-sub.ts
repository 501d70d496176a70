/** SUBSCRIBE with ioredis over a unix socket (--socket), messages as Buffers. */
import Redis from 'ioredis';
import { runSink } from './sink';

void runSink(async (args, onMessage) => {
  const redis = new Redis({ path: args.get('socket'), lazyConnect: true });
  await redis.connect();
  redis.on('messageBuffer', (_channel: Buffer, message: Buffer) => onMessage(message));
  await redis.subscribe(args.optional('channel') ?? 'bench');
  return { close: async () => void redis.disconnect() };
});
