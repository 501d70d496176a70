/**
 * The daemon's Prometheus metrics, read on each scrape from the same
 * snapshot as `stats`: nothing is counted per message, a scrape costs one
 * snapshot (a few loads from shared memory).
 *
 *   const metrics = createMetrics(() => daemon.stats());
 *   await metrics.scrape()        // text exposition format, from one snapshot
 *   metrics.contentType
 *
 * Every series is rebuilt from the snapshot on each scrape, so the series of
 * a sink that went away disappear with it. Per-sink series are labelled by
 * sink address and kind only, and there are at most maxSinks sinks: the
 * number of series is bounded. Readers attached to the ring in shared memory
 * (--shm) get their own series, labelled by slot, pid and policy: at most
 * one per process slot. Process metrics are prom-client's defaults,
 * prefixed `msgmux_`.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { DaemonStats } from '../daemon/daemon';
import type { ShmReaderStats } from '../daemon/shm-readers';
import { ringFill } from './snapshot';

export const METRICS_PREFIX = 'msgmux_';

type Reading = (stats: DaemonStats, set: (labels: Record<string, string>, value: number) => void) => void;

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  labels?: string[];
  read: Reading;
}

const perSink = (value: (sink: DaemonStats['sinks'][number]) => number): Reading => (stats, set) => {
  for (const sink of stats.sinks) set({ sink: sink.path, kind: sink.kind }, value(sink));
};

const perShmReader = (value: (reader: ShmReaderStats) => number): Reading => (stats, set) => {
  for (const reader of stats.shm?.readers ?? []) set({ slot: String(reader.readerSlot), pid: String(reader.pid), policy: reader.policy }, value(reader));
};
const SHM_READER_LABELS = ['slot', 'pid', 'policy'];

const FAMILIES: Family[] = [
  { name: 'messages_ingested_total', help: 'Messages taken off the queue and written into the ring.', type: 'counter', read: (s, set) => set({}, s.ingested) },
  { name: 'queue_depth_messages', help: "The ingest queue's depth (mq_maxmsg).", type: 'gauge', read: (s, set) => set({}, s.queue.depth) },
  { name: 'queue_waiting_messages', help: 'Messages waiting in the ingest queue.', type: 'gauge', read: (s, set) => set({}, s.queue.waiting) },
  { name: 'queue_message_size_bytes', help: "The ingest queue's message size (mq_msgsize).", type: 'gauge', read: (s, set) => set({}, s.queue.messageSize) },
  {
    name: 'ingest_state',
    help: 'The ingest thread\'s current state, as the one series with value 1. "waiting for the slowest sink" is backpressure.',
    type: 'gauge',
    labels: ['state'],
    read: (s, set) => set({ state: s.ingest }, 1),
  },
  { name: 'ring_capacity_bytes', help: 'Bytes of ring data.', type: 'gauge', read: (s, set) => set({}, s.ring.capacity) },
  { name: 'ring_written_records_total', help: 'Records written into the ring (one per message).', type: 'counter', read: (s, set) => set({}, s.ring.written) },
  { name: 'ring_used_bytes', help: 'Ring bytes the writer cannot reuse yet: the largest lag of a gating (block, evict) sink or shared-memory reader.', type: 'gauge', read: (s, set) => set({}, ringFill(s)) },
  { name: 'sinks', help: 'Sinks being served.', type: 'gauge', read: (s, set) => set({}, s.sinks.length) },
  { name: 'sink_delivered_messages_total', help: 'Messages delivered to the sink.', type: 'counter', labels: ['sink', 'kind'], read: perSink((k) => k.delivered) },
  {
    name: 'sink_dropped_messages_total',
    help: 'Messages not delivered to the sink: lapped (drop), sink absent, or refused by the sink.',
    type: 'counter',
    labels: ['sink', 'kind'],
    read: perSink((k) => k.dropped),
  },
  { name: 'sink_lag_bytes', help: 'Bytes published that the sink has not taken yet.', type: 'gauge', labels: ['sink', 'kind'], read: perSink((k) => k.lag) },
  { name: 'sink_reachable', help: '1 while the sink is reachable, 0 while it is absent.', type: 'gauge', labels: ['sink', 'kind'], read: perSink((k) => (k.reachable ? 1 : 0)) },
  // Only with the ring in shared memory: a daemon without --shm has no readers to count, so no such series.
  { name: 'shm_readers', help: 'Processes attached to the ring in shared memory.', type: 'gauge', read: (s, set) => {
    if (s.shm) set({}, s.shm.readers.length);
  } },
  {
    name: 'shm_reader_delivered_messages_total',
    help: 'Messages the attached reader has read and released, as it reports them in its own cursor page.',
    type: 'counter',
    labels: SHM_READER_LABELS,
    read: perShmReader((r) => r.delivered),
  },
  {
    name: 'shm_reader_lag_bytes',
    help: 'Bytes written into the ring that the attached reader has not released yet (how far it is behind the writer).',
    type: 'gauge',
    labels: SHM_READER_LABELS,
    read: perShmReader((r) => r.lag),
  },
  {
    name: 'control_requests_total',
    help: 'Control requests received, by op ("invalid" when the request could not be parsed).',
    type: 'counter',
    labels: ['op'],
    read: (s, set) => Object.entries(s.control.requests).forEach(([op, n]) => set({ op }, n)),
  },
  {
    name: 'control_refusals_total',
    help: 'Control requests refused, by error code.',
    type: 'counter',
    labels: ['code'],
    read: (s, set) => Object.entries(s.control.refusals).forEach(([code, n]) => set({ code }, n)),
  },
];

export interface Metrics {
  registry: Registry;
  contentType: string;
  /** Every family from one snapshot, so the numbers of one scrape agree with each other. */
  scrape(): Promise<string>;
}

export function createMetrics(snapshot: () => DaemonStats): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: METRICS_PREFIX });
  let current: DaemonStats | null = null;
  const stats = (): DaemonStats => (current ??= snapshot());
  for (const family of FAMILIES) {
    const name = METRICS_PREFIX + family.name;
    const labelNames = family.labels ?? [];
    if (family.type === 'counter') {
      new Counter({
        name, help: family.help, labelNames, registers: [registry],
        collect() {
          this.reset();
          family.read(stats(), (labels, value) => this.inc(labels, value));
        },
      });
    } else {
      new Gauge({
        name, help: family.help, labelNames, registers: [registry],
        collect() {
          this.reset();
          family.read(stats(), (labels, value) => this.set(labels, value));
        },
      });
    }
  }
  return {
    registry,
    contentType: registry.contentType,
    async scrape() {
      current = snapshot();
      try {
        return await registry.metrics();
      } finally {
        current = null;
      }
    },
  };
}
