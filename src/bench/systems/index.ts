/** Every system the harness knows, in the order it runs and reports them. */
import type { BenchSystem } from '../system';
import { directC } from './direct';
import { broadcastChannelSystem, messagePortSystem, ringSystem } from './inproc';
import { msgmuxC, msgmuxNode } from './msgmux';
import { msgmuxShm } from './msgmux-shm';
import { multicastC } from './multicast';
import { natsC, natsNode } from './nats';
import { redisC, redisNode } from './redis';
import { referenceC } from './reference';
import { zmqC, zmqNode } from './zeromq';

export const SYSTEMS: BenchSystem[] = [
  msgmuxNode, msgmuxShm, msgmuxC, directC, referenceC, multicastC,
  redisNode, redisC, natsNode, natsC, zmqNode, zmqC,
  ringSystem, broadcastChannelSystem, messagePortSystem,
];

/** `--systems` entries: a key ("redis-node") or a system's family ("redis" = every redis-*). */
export function selectSystems(names: string[]): BenchSystem[] {
  if (names.length === 0) return SYSTEMS;
  return SYSTEMS.filter((s) => names.some((n) => s.key === n || s.key.startsWith(`${n}-`)));
}
