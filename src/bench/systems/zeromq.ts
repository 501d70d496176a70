/**
 * ZeroMQ PUB/SUB over ipc:// (no broker: the publisher binds, subscribers
 * connect), high-water marks 0 (unlimited queues, so nothing is dropped),
 * with the zeromq npm client or libzmq.
 */
import path from 'node:path';
import { compiled } from '../cc';
import { nodeClient, requireClient, type GroupContext, type ProcessSystem } from '../system';

const endpoint = ({ dir }: GroupContext): string => `ipc://${path.join(dir, 'zmq.sock')}`;
const base = { system: 'zeromq', kind: 'process' as const, lossless: true, start: async () => ({ address: {}, stop: async () => undefined }) };

export const zmqNode: ProcessSystem = {
  ...base,
  key: 'zmq-node',
  clients: 'node',
  prepare: async () => requireClient('zeromq'),
  group: (context) => ({
    subscribers: Array.from({ length: context.subscribers }, (_, k) => nodeClient(`zeromq subscriber ${k}`, 'zmq-sub', ['--endpoint', endpoint(context)])),
    publisher: nodeClient('zeromq publisher', 'zmq-pub', ['--endpoint', endpoint(context), '--subscribers', String(context.subscribers)]),
  }),
};

let sub = '';
let pub = '';
export const zmqC: ProcessSystem = {
  ...base,
  key: 'zmq-c',
  clients: 'c',
  async prepare() {
    [sub, pub] = await Promise.all([compiled('zmq_sub', ['-lzmq']), compiled('zmq_pub', ['-lzmq'])]);
  },
  group: (context) => ({
    subscribers: Array.from({ length: context.subscribers }, (_, k) => ({ label: `libzmq subscriber ${k}`, file: sub, args: ['--endpoint', endpoint(context)] })),
    publisher: { label: 'libzmq publisher', file: pub, args: ['--endpoint', endpoint(context), '--subscribers', String(context.subscribers)] },
  }),
};
