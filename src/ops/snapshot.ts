/**
 * What the operator views (live stats, metrics, systemd status) read out of
 * one `stats` snapshot, computed the same way for all of them.
 *
 *   ringFill(stats): number                  bytes the writer cannot reuse yet (largest gating lag, sinks and shm readers)
 *   holdingBack(stats): SinkStats | null     the gating sink with the largest lag, if any lags
 *   rates(prev, cur, seconds): Rates         per-second ingest and per-sink deltas
 *   headline(stats): string                  one line of the main counters (systemd's STATUS=)
 */
import type { DaemonStats } from '../daemon/daemon';
import type { SinkStats } from '../sink/registry';

/** A drop sink never holds the writer back; block and evict sinks do (evict until its budget runs out). */
export const isGating = (reader: { policy: string }): boolean => reader.policy !== 'drop';

/** The largest lag of a gating sink or gating shared-memory reader: both hold the writer back alike. */
export function ringFill(stats: DaemonStats): number {
  const gating = [...stats.sinks, ...(stats.shm?.readers ?? [])].filter(isGating);
  return gating.reduce((max, reader) => Math.max(max, reader.lag), 0);
}

export function holdingBack(stats: DaemonStats): SinkStats | null {
  let worst: SinkStats | null = null;
  for (const sink of stats.sinks) if (isGating(sink) && sink.lag > 0 && (worst === null || sink.lag > worst.lag)) worst = sink;
  return worst;
}

export interface SinkRates {
  delivered: number;
  dropped: number;
}

export interface Rates {
  ingested: number;
  /** By sink path; a sink absent from the earlier snapshot has no rate yet. */
  sinks: Map<string, SinkRates>;
}

/** Per-second rates between two snapshots `seconds` apart; counters that went backwards (a restarted sink) count from 0. */
export function rates(prev: DaemonStats, cur: DaemonStats, seconds: number): Rates {
  const per = (now: number, before: number) => (seconds > 0 ? Math.max(0, now >= before ? now - before : now) / seconds : 0);
  const earlier = new Map(prev.sinks.map((sink) => [sink.path, sink] as const));
  const sinks = new Map<string, SinkRates>();
  for (const sink of cur.sinks) {
    const before = earlier.get(sink.path);
    if (before) sinks.set(sink.path, { delivered: per(sink.delivered, before.delivered), dropped: per(sink.dropped, before.dropped) });
  }
  return { ingested: per(cur.ingested, prev.ingested), sinks };
}

export function headline(stats: DaemonStats): string {
  const reachable = stats.sinks.filter((sink) => sink.reachable).length;
  const { waiting, depth } = stats.queue;
  return `ingested ${stats.ingested}, ${stats.sinks.length} sinks (${reachable} reachable), queue ${waiting}/${depth} waiting, ingest ${stats.ingest}`;
}
