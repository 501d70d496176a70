/** PUBLISH with ioredis over a unix socket (--socket); ioredis pipelines what is sent before a reply. */
import Redis from 'ioredis';
import { runPublisher } from './publish';

void runPublisher(async (args) => {
  const redis = new Redis({ path: args.get('socket'), lazyConnect: true, enableOfflineQueue: false });
  await redis.connect();
  const channel = args.optional('channel') ?? 'bench';
  return { send: async (message) => void (await redis.publish(channel, message)), close: async () => void redis.disconnect() };
});
