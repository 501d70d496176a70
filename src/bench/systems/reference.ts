/**
 * The single-process C reference broker (harness/c/ref_broker.c): the same
 * job as the msgmux daemon with the same clients and queue depth
 * (mq_receive what is queued, sendmmsg it to each sink), as plain as C gets.
 */
import { compiled } from '../cc';
import { Child } from '../child';
import type { ProcessSystem } from '../system';
import { unlinkOnCleanup, withQueueDepth, withRaisedQueueLimit } from './queue';

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
  async prepare() {
    [broker, sink, publisher] = await Promise.all([compiled('ref_broker', ['-lrt']), compiled('dgram_sink'), compiled('mq_pub', ['-lrt'])]);
  },
  async start(_dir, plan) {
    const id = `${process.pid}-${++started}`;
    const queue = `/msgmux-bench-ref-${id}`;
    const control = `@msgmux-bench/ref-${id}/control`;
    const unlink = unlinkOnCleanup(queue);
    const child = await withQueueDepth(async (depth) => {
      const args = ['--queue', queue, '--control', control, '--depth', String(depth), '--msgsize', String(Math.max(...plan.sizes, 64))];
      const command = withRaisedQueueLimit(broker, args);
      const child = new Child('C reference broker', command.file, command.args, { exec: true });
      await child.next('ready', 10_000);
      return child;
    });
    return {
      pid: child.pid,
      address: { queue, control },
      async stop() {
        await child.stop(5_000);
        unlink();
      },
    };
  },
  group: ({ broker: b, subscribers, id }) => ({
    subscribers: Array.from({ length: subscribers }, (_, k) => ({
      label: `C sink ${k}`,
      file: sink,
      args: ['--bind', `@msgmux-bench/${id}/ref-sink-${k}`, '--register', b.address.control],
    })),
    publisher: { label: 'C mq_send publisher', file: publisher, args: ['--queue', b.address.queue] },
  }),
};
