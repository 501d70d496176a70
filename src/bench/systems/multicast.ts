/**
 * UDP multicast on loopback, inside a private network namespace the harness
 * makes for each group (`unshare -n`, lo up, a route for 224.0.0.0/4), so no
 * multicast ever leaves on the host's interfaces. Nothing paces a UDP sender
 * to its receivers: its loss is the result, reported, not flagged.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { compiled } from '../cc';
import { Child } from '../child';
import type { GroupSample } from '../group';
import type { ProcessSystem } from '../system';

const NETNS_SETUP = 'ip link set lo up && ip route add 224.0.0.0/4 dev lo';
const GROUP_ADDRESS = '239.255.77.1';
let sink = '';
let publisher = '';
let groups = 0;

export const multicastC: ProcessSystem = {
  key: 'multicast-c',
  system: 'UDP multicast',
  clients: 'c',
  kind: 'process',
  lossless: false,
  onePublisher: null,
  async prepare() {
    try {
      execFileSync('unshare', ['-n', 'sh', '-c', NETNS_SETUP], { stdio: 'pipe' });
    } catch (err) {
      const why = String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim().split('\n')[0];
      throw new Error(`cannot make a private network namespace (unshare -n needs root or user namespaces): ${why}`);
    }
    [sink, publisher] = await Promise.all([compiled('mcast_sink'), compiled('mcast_pub')]);
  },
  start: async () => ({ address: {}, stop: async () => undefined }),
  group({ subscribers }) {
    const where = ['--group', GROUP_ADDRESS, '--port', String(20_000 + (++groups % 20_000))];
    return {
      subscribers: Array.from({ length: subscribers }, (_, k) => ({ label: `multicast sink ${k}`, file: sink, args: where })),
      publisher: { label: 'multicast publisher', file: publisher, args: where },
    };
  },
  /** The whole group runs in a child Node process inside the namespace (netns-group.ts), which reports its sample. */
  async runGroup(group, _brokerPid, phases, size, dir): Promise<GroupSample> {
    const script = path.join(__dirname, '..', 'netns-group.js');
    const job = JSON.stringify({ group, phases, size, dir });
    const child = new Child('multicast group in a network namespace', 'unshare', ['-n', 'sh', '-c', `${NETNS_SETUP} && exec "$0" "$@"`, process.execPath, script, job], { exec: true });
    try {
      return await child.next<GroupSample>('the group sample', 600_000);
    } finally {
      await child.stop(5_000).catch(() => undefined);
    }
  },
};
