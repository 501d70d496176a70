/**
 * Redis Pub/Sub over a unix socket: Debian's redis-server, started per round
 * with a temporary config (no TCP port, no persistence, and no output buffer
 * limit for pub/sub clients, so a slow subscriber is never disconnected:
 * lossless), with ioredis or hiredis clients.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { compiled } from '../cc';
import { Child } from '../child';
import { nodeClient, requireClient, type Broker, type ProcessSystem } from '../system';

const SERVER = 'redis-server';

function findServer(): void {
  try {
    execFileSync(SERVER, ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(`${SERVER} is not installed (scripts/install-peers.sh, or apt-get install redis-server)`);
  }
}

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
  const child = new Child('redis-server', SERVER, [config], { exec: true });
  for (let waited = 0; !fs.existsSync(socket); waited += 20) {
    if (waited > 10_000) {
      await child.stop(2_000, 'SIGKILL');
      throw new Error(`redis-server did not open ${socket}: ${child.stderrLines.slice(-3).join(' ')}`);
    }
    await sleep(20);
  }
  return { pid: child.pid, address: { socket }, stop: async () => void (await child.stop(5_000)) };
}

const base = { system: 'redis', kind: 'process' as const, lossless: true, start };

export const redisNode: ProcessSystem = {
  ...base,
  key: 'redis-node',
  clients: 'node',
  prepare: async () => {
    findServer();
    requireClient('ioredis');
  },
  group: ({ broker, subscribers }) => ({
    subscribers: Array.from({ length: subscribers }, (_, k) => nodeClient(`ioredis subscriber ${k}`, 'redis-sub', ['--socket', broker.address.socket])),
    publisher: nodeClient('ioredis publisher', 'redis-pub', ['--socket', broker.address.socket]),
  }),
};

let sub = '';
let pub = '';
export const redisC: ProcessSystem = {
  ...base,
  key: 'redis-c',
  clients: 'c',
  async prepare() {
    findServer();
    [sub, pub] = await Promise.all([compiled('redis_sub', ['-lhiredis']), compiled('redis_pub', ['-lhiredis'])]);
  },
  group: ({ broker, subscribers }) => ({
    subscribers: Array.from({ length: subscribers }, (_, k) => ({ label: `hiredis subscriber ${k}`, file: sub, args: ['--socket', broker.address.socket] })),
    publisher: { label: 'hiredis publisher', file: pub, args: ['--socket', broker.address.socket] },
  }),
};
