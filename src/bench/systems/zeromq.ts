/**
 * ZeroMQ PUB/SUB over ipc:// (no broker: the publisher binds, subscribers
 * connect), high-water marks 0 (unlimited queues, so nothing is dropped),
 * with the zeromq npm client or libzmq.
 */
import path from 'node:path';
import type { GroupContext } from '../system';
import { clientPair } from './client-pair';

const endpoint = ({ dir }: GroupContext): string[] => ['--endpoint', `ipc://${path.join(dir, 'zmq.sock')}`];

export const [zmqNode, zmqC] = clientPair({
  key: 'zmq',
  system: 'zeromq',
  lossless: true,
  onePublisher: 'its publisher binds the ipc:// endpoint: one publisher process only',
  start: async () => ({ address: {}, stop: async () => undefined }),
  subscriberArgs: endpoint,
  publisherArgs: (context) => [...endpoint(context), '--subscribers', String(context.subscribers)],
  node: { package: 'zeromq', label: 'zeromq', subscriber: 'zmq-sub', publisher: 'zmq-pub' },
  c: { label: 'libzmq', subscriber: 'zmq_sub', publisher: 'zmq_pub', libs: ['-lzmq'] },
});
