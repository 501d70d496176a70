/**
 * msgmux with its ring in shared memory: the same daemon as msgmux-node
 * (systems/msgmux.ts), started with a config whose `shm` block puts the ring
 * in /dev/shm, fed by msgmux's own Publisher; each subscriber is a Node
 * process that attaches over the control socket and reads the ring directly
 * (`Subscriber.connect({ transport: 'shm', policy: 'block' })`): lossless.
 */
import fs from 'node:fs';
import path from 'node:path';
import { onCleanup } from '../cleanup';
import type { Plan } from '../plan';
import { nodeClient, type Broker, type ProcessSystem } from '../system';
import { daemonId, maxMessageOf, startDaemon } from './msgmux';

const SHM_DIR = '/dev/shm';

/** Removes the ring file and its cursor files (NAME.SLOT) if a daemon that did not stop cleanly left them. */
function removeRingFiles(name: string): void {
  const base = name.slice(1);
  for (const file of fs.readdirSync(SHM_DIR)) {
    if (file === base || file.startsWith(`${base}.`)) fs.rmSync(path.join(SHM_DIR, file), { force: true });
  }
}

async function start(dir: string, plan: Pick<Plan, 'sizes' | 'subscribers' | 'queueDepth'>): Promise<Broker> {
  const id = daemonId();
  const name = `/msgmux-bench-${id}-ring`;
  const config = path.join(dir, `msgmux-shm-${id}.json`);
  // A reader slot per subscriber of the largest group (the config's default is 16).
  fs.writeFileSync(config, JSON.stringify({ shm: { name, readers: Math.max(...plan.subscribers, 1) } }));
  const release = onCleanup(() => removeRingFiles(name));
  try {
    const broker = await startDaemon(id, maxMessageOf(plan), plan.queueDepth, ['--config', config]);
    return {
      ...broker,
      async stop() {
        try {
          await broker.stop();
        } finally {
          release();
        }
      },
    };
  } catch (err) {
    release();
    throw err;
  }
}

export const msgmuxShm: ProcessSystem = {
  key: 'msgmux-shm',
  system: 'msgmux',
  clients: 'node',
  kind: 'process',
  lossless: true,
  onePublisher: null,
  prepare: async () => undefined,
  start,
  group: ({ broker, subscribers }) => ({
    subscribers: Array.from({ length: subscribers }, (_, k) => nodeClient(`msgmux shm subscriber ${k}`, 'msgmux-shm-sub', ['--control', broker.address.control])),
    publisher: nodeClient('msgmux publisher', 'msgmux-pub', ['--queue', broker.address.queue]),
  }),
};
