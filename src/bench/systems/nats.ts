/**
 * Core NATS: Debian's nats-server on 127.0.0.1 and a free port, started per
 * round, with the `nats` npm client or libnats. Core NATS delivers at most
 * once (a slow consumer is cut off), so its loss is reported, not flagged.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Broker, GroupContext } from '../system';
import { clientPair } from './client-pair';
import { freePort } from './free-port';
import { requireServer, startServer } from './server';

const SERVER = 'nats-server';

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
  const child = await startServer(SERVER, ['-c', config], () => accepts(port), `listen on ${port}`);
  return { pid: child.pid, address: { url: `nats://127.0.0.1:${port}` }, stop: async () => void (await child.stop(5_000)) };
}

const url = ({ broker }: GroupContext): string[] => ['--url', broker.address.url];

export const [natsNode, natsC] = clientPair({
  key: 'nats',
  system: 'nats',
  lossless: false,
  onePublisher: null,
  start,
  requires: () => requireServer(SERVER),
  subscriberArgs: url,
  publisherArgs: url,
  node: { package: 'nats', label: 'nats', subscriber: 'nats-sub', publisher: 'nats-pub' },
  c: { label: 'libnats', subscriber: 'nats_sub', publisher: 'nats_pub', libs: ['-lnats'] },
});
