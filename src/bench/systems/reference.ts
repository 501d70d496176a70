/**
 * The single-process C reference broker (harness/c/ref_broker.c): the same
 * job as the msgmux daemon with the same clients and queue depth
 * (mq_receive what is queued, sendmmsg it to each sink), as plain as C gets.
 */
import { compiled } from '../cc';
import type { ProcessSystem } from '../system';
import { foreignClientGroup, startQueueBroker } from './queue';

let broker = '';
let sink = '';
let publisher = '';
let started = 0;

export const referenceC: ProcessSystem = {
  key: 'cref-c',
  system: 'C reference broker',
  clients: 'c',
  kind: 'process',
  lossless: true,
  onePublisher: null,
  async prepare() {
    [broker, sink, publisher] = await Promise.all([compiled('ref_broker', ['-lrt']), compiled('dgram_sink'), compiled('mq_pub', ['-lrt'])]);
  },
  start(_dir, plan) {
    const id = `${process.pid}-${++started}`;
    const queue = `/msgmux-bench-ref-${id}`;
    const control = `@msgmux-bench/ref-${id}/control`;
    return startQueueBroker({
      label: 'C reference broker',
      queue,
      control,
      file: broker,
      args: (depth) => ['--queue', queue, '--control', control, '--depth', String(depth), '--msgsize', String(Math.max(...plan.sizes, 64))],
      ready: (child) => child.next('ready', 10_000),
      stopTimeoutMs: 5_000,
    }, plan.queueDepth);
  },
  group: ({ broker: b, subscribers, id }) => foreignClientGroup(sink, publisher, `@msgmux-bench/${id}/ref-sink`, b, subscribers),
};
