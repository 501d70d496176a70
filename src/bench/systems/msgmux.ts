/**
 * msgmux itself: the daemon started with the real CLI (`msgmux start`) on its
 * own queue and control socket, fed and drained by msgmux's own Node clients
 * (Publisher, Subscriber) or by plain foreign C clients (mq_send, and a
 * datagram socket that registers by sending its path to the control socket).
 */
import path from 'node:path';
import { compiled, PACKAGE_ROOT } from '../cc';
import { Child } from '../child';
import { nodeClient, type Broker, type ProcessSystem } from '../system';
import { unlinkOnCleanup, withQueueDepth, withRaisedQueueLimit } from './queue';

const START_TIMEOUT_MS = 20_000;

const started = (line: string): boolean => {
  try {
    return (JSON.parse(line) as { msg?: string }).msg === 'msgmux started';
  } catch {
    return false;
  }
};

async function startDaemon(id: string, maxMessage: number): Promise<Broker> {
  const queue = `/msgmux-bench-${id}`;
  const control = `@msgmux-bench/${id}/control`;
  const unlink = unlinkOnCleanup(queue);
  const daemon = await withQueueDepth(async (depth) => {
    const args = ['start', '--queue', queue, '--control', control, '--queue-depth', String(depth), '--max-message', String(maxMessage)];
    const command = withRaisedQueueLimit(process.execPath, [path.join(PACKAGE_ROOT, 'bin', 'msgmux'), ...args]);
    const child = new Child(`msgmux daemon ${queue}`, command.file, command.args, { exec: true });
    try {
      await child.waitForLog(started, 'the "msgmux started" log line', START_TIMEOUT_MS);
    } catch (err) {
      await child.stop(5_000, 'SIGKILL');
      unlink();
      throw err;
    }
    return child;
  });
  return {
    pid: daemon.pid,
    address: { queue, control },
    async stop() {
      await daemon.stop(15_000);
      unlink();
    },
  };
}

let daemons = 0;
const base = {
  system: 'msgmux',
  kind: 'process' as const,
  lossless: true,
  start: (_dir: string, plan: { sizes: number[] }) => startDaemon(`${process.pid}-${++daemons}`, Math.max(...plan.sizes, 64)),
};

export const msgmuxNode: ProcessSystem = {
  ...base,
  key: 'msgmux-node',
  clients: 'node',
  prepare: async () => undefined,
  group: ({ broker, subscribers }) => ({
    subscribers: Array.from({ length: subscribers }, (_, k) => nodeClient(`msgmux subscriber ${k}`, 'msgmux-sub', ['--control', broker.address.control])),
    publisher: nodeClient('msgmux publisher', 'msgmux-pub', ['--queue', broker.address.queue]),
  }),
};

let sink = '';
let publisher = '';
export const msgmuxC: ProcessSystem = {
  ...base,
  key: 'msgmux-c',
  clients: 'c',
  async prepare() {
    [sink, publisher] = await Promise.all([compiled('dgram_sink'), compiled('mq_pub', ['-lrt'])]);
  },
  group: ({ broker, subscribers, id }) => ({
    subscribers: Array.from({ length: subscribers }, (_, k) => ({
      label: `C sink ${k}`,
      file: sink,
      args: ['--bind', `@msgmux-bench/${id}/sink-${k}`, '--register', broker.address.control],
    })),
    publisher: { label: 'C mq_send publisher', file: publisher, args: ['--queue', broker.address.queue] },
  }),
};
