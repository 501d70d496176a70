/**
 * Samples (one per round) into the report's rows, one per system, clients,
 * publishers, subscribers and size: medians of the rounds' rates, sums of what went
 * wrong, latency from the latency phases. A lossless system that lost,
 * duplicated or reordered anything is flagged and gets no rate at all, so it
 * is never averaged in with the systems that kept their promise.
 */
import type { GroupSample } from './group';
import type { Latency } from './histogram';
import type { InprocSample } from './system';

export interface Row {
  system: string;
  key: string;
  clients: string;
  /** Publisher processes (each sent its share of the messages); 1 for the in-process systems' one writer thread. */
  publishers: number;
  subscribers: number;
  size: number;
  /** Messages per subscriber per measured round, from all publishers together. */
  messages: number;
  rounds: number;
  /** Messages the subscribers got in the measured rounds, summed over subscribers and rounds (messages x subscribers x rounds when nothing is lost). */
  delivered: number;
  deliveredPerSec: number | null;
  slowestPerSec: number | null;
  lost: number;
  duplicated: number;
  reordered: number;
  lossless: boolean;
  flagged: string | null;
  p50Micros: number | null;
  p99Micros: number | null;
  p999Micros: number | null;
  latency: { rate: number; samples: number; p50Micros: number; p99Micros: number; p999Micros: number; maxMicros: number }[];
  brokerCpuSec: number | null;
  clientCpuSec: number | null;
  brokerRssKiB: number | null;
  errors: string[];
}

export interface RowKey { system: string; key: string; clients: string; publishers: number; subscribers: number; size: number; lossless: boolean }

export const median = (values: number[]): number | null => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Throughput of one group sample's `tput` phase: all deliveries over the window, and the slowest subscriber. */
function throughput(sample: GroupSample): { delivered: number; slowest: number; messages: number; received: number } {
  const k = sample.phases.findIndex((p) => p.kind === 'tput');
  const start = sample.publisher[k].startNs;
  const sinks = sample.sinks[k];
  const last = Math.max(...sinks.map((s) => s.lastNs));
  const received = sinks.reduce((sum, s) => sum + s.received, 0);
  return {
    delivered: received / ((last - start) / 1e9),
    slowest: Math.min(...sinks.map((s) => (s.lastNs > start ? s.received / ((s.lastNs - start) / 1e9) : 0))),
    messages: sample.phases[k].count,
    received,
  };
}

const total = (samples: GroupSample[], pick: (s: { lost: number; dup: number; reordered: number }) => number): number =>
  samples.reduce((sum, g) => sum + g.sinks.flat().reduce((s, sink) => s + pick(sink), 0), 0);

function finish(key: RowKey, row: Omit<Row, keyof RowKey | 'flagged'>): Row {
  const broken = key.lossless && row.lost + row.duplicated + row.reordered > 0;
  const flagged = broken ? `promises no loss but lost ${row.lost}, duplicated ${row.duplicated}, reordered ${row.reordered}` : null;
  return { ...key, ...row, flagged, ...(broken ? { deliveredPerSec: null, slowestPerSec: null } : {}) };
}

export function processRow(key: RowKey, samples: GroupSample[], errors: string[]): Row {
  const rates = samples.map(throughput);
  const latency = samples.flatMap((s) => s.latency).filter((l): l is { rate: number; latency: Latency } => l.latency !== null);
  const fastest = latency.find((l) => l.rate === Math.max(...latency.map((x) => x.rate)));
  const pick = (f: (s: GroupSample) => number | null): number | null => median(samples.map(f).filter((v): v is number => v !== null && !Number.isNaN(v)));
  return finish(key, {
    messages: rates[0]?.messages ?? 0,
    rounds: samples.length,
    delivered: rates.reduce((sum, r) => sum + r.received, 0),
    deliveredPerSec: median(rates.map((r) => r.delivered)),
    slowestPerSec: median(rates.map((r) => r.slowest)),
    lost: total(samples, (s) => s.lost),
    duplicated: total(samples, (s) => s.dup),
    reordered: total(samples, (s) => s.reordered),
    p50Micros: fastest?.latency.p50Micros ?? null,
    p99Micros: fastest?.latency.p99Micros ?? null,
    p999Micros: fastest?.latency.p999Micros ?? null,
    latency: latency.map((l) => ({ rate: l.rate, ...l.latency })),
    brokerCpuSec: pick((s) => s.brokerCpuSec),
    clientCpuSec: pick((s) => s.clientCpuSec),
    brokerRssKiB: samples.some((s) => s.brokerRssKiB !== null) ? Math.max(...samples.map((s) => s.brokerRssKiB ?? 0)) : null,
    errors,
  });
}

export function inprocRow(key: RowKey, samples: InprocSample[], errors: string[]): Row {
  const sum = (f: (s: InprocSample) => number): number => samples.reduce((a, s) => a + f(s), 0);
  return finish(key, {
    messages: samples[0]?.messages ?? 0,
    rounds: samples.length,
    delivered: sum((s) => s.delivered),
    deliveredPerSec: median(samples.map((s) => s.deliveredPerSec)),
    slowestPerSec: median(samples.map((s) => s.slowestPerSec)),
    lost: sum((s) => s.lost),
    duplicated: sum((s) => s.duplicated),
    reordered: sum((s) => s.reordered),
    p50Micros: null,
    p99Micros: null,
    p999Micros: null,
    latency: [],
    brokerCpuSec: null,
    clientCpuSec: median(samples.map((s) => s.clientCpuSec).filter((v): v is number => v !== null)),
    brokerRssKiB: null,
    errors,
  });
}
