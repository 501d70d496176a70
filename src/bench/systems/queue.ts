/**
 * The POSIX queue that msgmux and the C reference broker ingest from: one
 * depth for both (the plan's, --queue-depth: by default deep enough not to be
 * the bottleneck where the harness may raise fs.mqueue.msg_max, as root),
 * and unlinked however the run ends; how either broker is started on it, and
 * the plain C clients both serve.
 */
import { Child } from '../child';
import { onCleanup } from '../cleanup';
import { unlinkBusQueues } from '../../daemon/bus-queue';
import { readMsgMax, withMsgMaxAtLeast } from '../msg-max';
import type { Broker, Group } from '../system';


/** Unlinks the queue, and the packed queue a msgmux daemon makes beside it, however the run ends. */
export function unlinkOnCleanup(queue: string): () => void {
  return onCleanup(() => unlinkBusQueues(queue));
}

/** Runs `create` (which creates the queue) with msg_max raised to `wanted` when possible; `create` gets the depth it can ask for. */
export async function withQueueDepth<T>(wanted: number, create: (depth: number) => Promise<T>): Promise<T> {
  let depth = wanted;
  const outcome = await withMsgMaxAtLeast(wanted, () => {
    if (readMsgMax() < wanted) depth = readMsgMax(); // not root: what the kernel allows
    return create(depth);
  });
  return outcome.value;
}

/** Runs a program with `ulimit -q` raised where allowed: every queue in the system is charged to one per-user budget. */
export const withRaisedQueueLimit = (file: string, args: string[]): { file: string; args: string[] } => ({
  file: '/bin/sh',
  args: ['-c', 'ulimit -q unlimited 2>/dev/null; exec "$0" "$@"', file, ...args],
});

export interface QueueBroker {
  label: string;
  /** The queue it creates and ingests from, and the control socket its sinks register on. */
  queue: string;
  control: string;
  file: string;
  args(depth: number): string[];
  /** Resolves once the broker serves. */
  ready(child: Child): Promise<unknown>;
  stopTimeoutMs: number;
}

/** Starts a broker that creates its queue `depth` deep (or as deep as the kernel allows), with `ulimit -q` raised; the queue is unlinked when it stops or fails to start. */
export async function startQueueBroker(broker: QueueBroker, depth: number): Promise<Broker> {
  const unlink = unlinkOnCleanup(broker.queue);
  const child = await withQueueDepth(depth, async (allowed) => {
    const command = withRaisedQueueLimit(broker.file, broker.args(allowed));
    const started = new Child(broker.label, command.file, command.args, { exec: true });
    try {
      await broker.ready(started);
    } catch (err) {
      await started.stop(5_000, 'SIGKILL');
      unlink();
      throw err;
    }
    return started;
  });
  return {
    pid: child.pid,
    address: { queue: broker.queue, control: broker.control },
    async stop() {
      await child.stop(broker.stopTimeoutMs);
      unlink();
    },
  };
}

/**
 * The plain C clients both queue brokers serve (msgmux, the C reference
 * broker): datagram sinks that register on the control socket, and an
 * mq_send publisher.
 */
export const foreignClientGroup = (sink: string, publisher: string, sinkPrefix: string, broker: Broker, subscribers: number): Group => ({
  subscribers: Array.from({ length: subscribers }, (_, k) => ({
    label: `C sink ${k}`,
    file: sink,
    args: ['--bind', `${sinkPrefix}-${k}`, '--register', broker.address.control],
  })),
  publisher: { label: 'C mq_send publisher', file: publisher, args: ['--queue', broker.address.queue] },
});
