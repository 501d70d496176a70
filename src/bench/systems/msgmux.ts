/**
 * msgmux itself: the daemon started with the real CLI (`msgmux start`) on its
 * own queue and control socket, fed and drained by msgmux's own Node clients
 * (Publisher, Subscriber) or by plain foreign C clients (mq_send, and a
 * datagram socket that registers by sending its path to the control socket).
 */
import path from 'node:path';
import { compiled, PACKAGE_ROOT } from '../cc';
import type { Plan } from '../plan';
import { nodeClient, type Broker, type ProcessSystem } from '../system';
import { foreignClientGroup, startQueueBroker } from './queue';

const START_TIMEOUT_MS = 20_000;

const started = (line: string): boolean => {
  try {
    return (JSON.parse(line) as { msg?: string }).msg === 'msgmux started';
  } catch {
    return false;
  }
};

/** A fresh id for one daemon of this run (its queue, control socket and any other names derive from it). */
let daemons = 0;
export const daemonId = (): string => `${process.pid}-${++daemons}`;

/** Starts `msgmux start` on its own queue (`depth` deep where the kernel allows) and control socket; `extraArgs` adds flags (e.g. a config file). */
export function startDaemon(id: string, maxMessage: number, depth: number, extraArgs: string[] = []): Promise<Broker> {
  const queue = `/msgmux-bench-${id}`;
  const control = `@msgmux-bench/${id}/control`;
  return startQueueBroker({
    label: `msgmux daemon ${queue}`,
    queue,
    control,
    file: process.execPath,
    args: (depth) => [path.join(PACKAGE_ROOT, 'bin', 'msgmux'), 'start', '--queue', queue, '--control', control, '--queue-depth', String(depth), '--max-message', String(maxMessage), ...extraArgs],
    ready: (child) => child.waitForLog(started, 'the "msgmux started" log line', START_TIMEOUT_MS),
    stopTimeoutMs: 15_000,
  }, depth);
}

/** The largest message a run sends: the daemon's --max-message. */
export const maxMessageOf = (plan: { sizes: number[] }): number => Math.max(...plan.sizes, 64);

type DaemonPlan = Pick<Plan, 'sizes' | 'queueDepth'>;

const base = {
  system: 'msgmux',
  kind: 'process' as const,
  lossless: true,
  onePublisher: null,
  start: (_dir: string, plan: DaemonPlan) => startDaemon(daemonId(), maxMessageOf(plan), plan.queueDepth),
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
  group: ({ broker, subscribers, id }) => foreignClientGroup(sink, publisher, `@msgmux-bench/${id}/sink`, broker, subscribers),
};
