/** No broker at all: the C publisher sends every message to every sink's datagram socket itself. */
import { compiled } from '../cc';
import type { ProcessSystem } from '../system';

let sink = '';
let publisher = '';

export const directC: ProcessSystem = {
  key: 'direct-c',
  system: 'direct datagram',
  clients: 'c',
  kind: 'process',
  lossless: true,
  onePublisher: null,
  async prepare() {
    [sink, publisher] = await Promise.all([compiled('dgram_sink'), compiled('direct_pub')]);
  },
  start: async () => ({ address: {}, stop: async () => undefined }),
  group({ subscribers, id }) {
    const names = Array.from({ length: subscribers }, (_, k) => `@msgmux-bench/${id}/direct-${k}`);
    return {
      subscribers: names.map((name, k) => ({ label: `C sink ${k}`, file: sink, args: ['--bind', name] })),
      publisher: { label: 'C direct publisher', file: publisher, args: ['--to', names.join(',')] },
    };
  },
};
