/**
 * The sink kinds, keyed by name: how each delivers and what its absence
 * means. A new kind is a target (connect, send a run of records, close) and
 * one entry here; the drain loop and the registry read only this table.
 */
import { RecordMeta } from '../source/record-meta';
import { DatagramTarget } from './datagram-target';
import { MulticastTarget } from './multicast-target';
import { QueueTarget } from './queue-target';
import type { Sink, SinkKind } from './spec';
import type { QueueShape, SinkTarget } from './target';

/** IP_MULTICAST_TTL 1 stays on the local network; the routing table picks the interface. */
export const DEFAULT_MULTICAST_SEND = Object.freeze({ ttl: 1, interface: '0.0.0.0', loopback: true });

export interface SinkKindEntry {
  createTarget(address: string, shape: QueueShape, sink: Sink, recordMeta: RecordMeta): SinkTarget;
  /**
   * A configured sink is kept while absent (it drains and counts what it
   * could not deliver, and reconnects) and is started again when it ends.
   * A registered one is removed as soon as nobody is there.
   */
  configured: boolean;
}

export const SINK_KINDS: Readonly<Record<SinkKind, SinkKindEntry>> = Object.freeze({
  static: { createTarget: (address) => new DatagramTarget(address), configured: true },
  mq: { createTarget: (address, shape) => new QueueTarget(address, shape), configured: true },
  dynamic: { createTarget: (address) => new DatagramTarget(address), configured: false },
  multicast: {
    createTarget: (address, _shape, sink, recordMeta) => new MulticastTarget(address, sink.multicast ?? DEFAULT_MULTICAST_SEND, recordMeta),
    configured: true,
  },
});
