/**
 * Redis Pub/Sub over a unix socket: Debian's redis-server, started per round
 * with a temporary config (no TCP port, no persistence, and no output buffer
 * limit for pub/sub clients, so a slow subscriber is never disconnected:
 * lossless), with ioredis or hiredis clients.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Broker, GroupContext } from '../system';
import { clientPair } from './client-pair';
import { requireServer, startServer } from './server';

const SERVER = 'redis-server';

let rounds = 0;
async function start(dir: string): Promise<Broker> {
  const home = path.join(dir, `redis-${++rounds}`);
  fs.mkdirSync(home, { recursive: true });
  const socket = path.join(home, 'redis.sock');
  const config = path.join(home, 'redis.conf');
  fs.writeFileSync(config, [
    'port 0', `unixsocket ${socket}`, 'unixsocketperm 700', `dir ${home}`, 'save ""', 'appendonly no',
    'client-output-buffer-limit pubsub 0 0 0', 'loglevel warning', 'daemonize no',
  ].join('\n') + '\n');
  const child = await startServer(SERVER, [config], () => fs.existsSync(socket), `open ${socket}`);
  return { pid: child.pid, address: { socket }, stop: async () => void (await child.stop(5_000)) };
}

const socket = ({ broker }: GroupContext): string[] => ['--socket', broker.address.socket];

export const [redisNode, redisC] = clientPair({
  key: 'redis',
  system: 'redis',
  lossless: true,
  onePublisher: null,
  start,
  requires: () => requireServer(SERVER),
  subscriberArgs: socket,
  publisherArgs: socket,
  node: { package: 'ioredis', label: 'ioredis', subscriber: 'redis-sub', publisher: 'redis-pub' },
  c: { label: 'hiredis', subscriber: 'redis_sub', publisher: 'redis_pub', libs: ['-lhiredis'] },
});
