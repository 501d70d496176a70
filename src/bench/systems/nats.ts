/**
 * Core NATS: Debian's nats-server on 127.0.0.1 and a free port, started per
 * round, with the `nats` npm client or libnats. Core NATS delivers at most
 * once (a slow consumer is cut off), so its loss is reported, not flagged.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { compiled } from '../cc';
import { Child } from '../child';
import { nodeClient, requireClient, type Broker, type ProcessSystem } from '../system';
import { freePort } from './free-port';

const SERVER = 'nats-server';

function findServer(): void {
  try {
    execFileSync(SERVER, ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error(`${SERVER} is not installed (scripts/install-peers.sh, or apt-get install nats-server)`);
  }
}

const accepts = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

let rounds = 0;
async function start(dir: string): Promise<Broker> {
  const port = await freePort();
  // max_pending 1 GB and a long write deadline: the server buffers a slow subscriber's backlog instead of cutting it off early.
  const config = path.join(dir, `nats-${++rounds}.conf`);
  fs.writeFileSync(config, `listen: 127.0.0.1:${port}\nmax_pending: 1073741824\nwrite_deadline: "30s"\n`);
  const child = new Child('nats-server', SERVER, ['-c', config], { exec: true });
  for (let waited = 0; !(await accepts(port)); waited += 20) {
    if (waited > 10_000) {
      await child.stop(2_000, 'SIGKILL');
      throw new Error(`nats-server did not listen on ${port}: ${child.stderrLines.slice(-3).join(' ')}`);
    }
    await sleep(20);
  }
  return { pid: child.pid, address: { url: `nats://127.0.0.1:${port}` }, stop: async () => void (await child.stop(5_000)) };
}

const base = { system: 'nats', kind: 'process' as const, lossless: false, start };

export const natsNode: ProcessSystem = {
  ...base,
  key: 'nats-node',
  clients: 'node',
  prepare: async () => {
    findServer();
    requireClient('nats');
  },
  group: ({ broker, subscribers }) => ({
    subscribers: Array.from({ length: subscribers }, (_, k) => nodeClient(`nats subscriber ${k}`, 'nats-sub', ['--url', broker.address.url])),
    publisher: nodeClient('nats publisher', 'nats-pub', ['--url', broker.address.url]),
  }),
};

let sub = '';
let pub = '';
export const natsC: ProcessSystem = {
  ...base,
  key: 'nats-c',
  clients: 'c',
  async prepare() {
    findServer();
    [sub, pub] = await Promise.all([compiled('nats_sub', ['-lnats']), compiled('nats_pub', ['-lnats'])]);
  },
  group: ({ broker, subscribers }) => ({
    subscribers: Array.from({ length: subscribers }, (_, k) => ({ label: `libnats subscriber ${k}`, file: sub, args: ['--url', broker.address.url] })),
    publisher: { label: 'libnats publisher', file: pub, args: ['--url', broker.address.url] },
  }),
};
