/**
 * What a reload (SIGHUP) changes: the difference between the running
 * configuration and the one just read, as a pure function.
 *
 *   const plan = planReload(running, next);
 *   plan.remove      configured sinks to stop: gone from the file, or changed (policy, budget)
 *   plan.add         configured sinks to start: new, or changed (started again with the new options)
 *   plan.applied     other fields that changed and take effect now (policy, evictAfterMs, drainTimeoutMs, logLevel, ...)
 *   plan.needsRestart fields that changed but take effect only on a restart (RESTART_FIELDS); they keep their running value
 *   plan.config      the configuration to run with from now on
 *
 * Dynamic sinks are not in any config and are left alone.
 */
import type { DaemonConfig } from '../config';
import type { SinkSpec } from '../sink/spec';

/** Fields fixed at start: the queue, the ring and the shared memory sized by maxSinks, the sockets bound, the groups joined, the NATS bridge and the ring's shared-memory file. */
export const RESTART_FIELDS = ['queue', 'queueDepth', 'maxMessage', 'queueMode', 'ringSize', 'control', 'maxSinks', 'metrics', 'multicast', 'nats', 'shm'] as const satisfies readonly (keyof DaemonConfig)[];

export interface ReloadPlan {
  remove: SinkSpec[];
  add: SinkSpec[];
  applied: string[];
  needsRestart: string[];
  config: DaemonConfig;
}

const sinkKey = (sink: SinkSpec): string => `${sink.kind}:${sink.path}`;
/** The budget matters only to an evict sink: a block or drop sink is not restarted because the default budget changed. */
const sameSink = (a: SinkSpec, b: SinkSpec): boolean => a.policy === b.policy && (a.policy !== 'evict' || a.evictAfterMs === b.evictAfterMs);
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

export function planReload(running: DaemonConfig, next: DaemonConfig): ReloadPlan {
  const before = new Map(running.sinks.map((sink) => [sinkKey(sink), sink] as const));
  const after = new Map(next.sinks.map((sink) => [sinkKey(sink), sink] as const));
  const remove = running.sinks.filter((sink) => {
    const kept = after.get(sinkKey(sink));
    return kept === undefined || !sameSink(sink, kept);
  });
  const add = next.sinks.filter((sink) => {
    const had = before.get(sinkKey(sink));
    return had === undefined || !sameSink(sink, had);
  });

  const restartOnly = new Set<string>(RESTART_FIELDS);
  const keys = new Set([...Object.keys(running), ...Object.keys(next)].filter((key) => key !== 'sinks'));
  const changed = [...keys].filter((key) => !same(running[key as keyof DaemonConfig], next[key as keyof DaemonConfig]));
  const needsRestart = changed.filter((key) => restartOnly.has(key));
  const applied = changed.filter((key) => !restartOnly.has(key));

  const config = { ...next } as Record<string, unknown>;
  for (const key of needsRestart) config[key] = running[key as keyof DaemonConfig];
  return { remove, add, applied, needsRestart, config: config as unknown as DaemonConfig };
}

/** True when the plan changes nothing at all. */
export const isEmptyPlan = (plan: ReloadPlan): boolean =>
  plan.remove.length + plan.add.length + plan.applied.length + plan.needsRestart.length === 0;
