/**
 * What one `msgmux bench` run measures: which systems, subscriber counts,
 * payload sizes, publisher processes per group, how many rounds, and the phases every group of processes
 * runs (a warm-up, a fixed count as fast as the system goes, then fixed
 * rates for latency). `--quick` is the same matrix, smaller.
 */
export type PhaseKind = 'warm' | 'tput' | 'lat';

export interface Phase {
  kind: PhaseKind;
  count: number;
  /** Messages per second; 0 = as fast as the system takes them. */
  rate: number;
}

export interface Plan {
  systems: string[];
  subscribers: number[];
  /** Reader threads for the in-process systems. */
  readers: number[];
  sizes: number[];
  /** Publisher processes per group, each sending its share of every phase. */
  publishers: number;
  /** The depth of msgmux's and the C reference broker's POSIX queue (as deep as fs.mqueue.msg_max allows when the harness cannot raise it). */
  queueDepth: number;
  rounds: number;
  warmup: number;
  count: number;
  /** Messages per in-process round (threads are far faster than processes). */
  inprocCount: number;
  /** Fixed rates for the latency phases, and how long each lasts. */
  latencyRates: number[];
  latencySeconds: number;
  quick: boolean;
}

export const DEFAULT_SUBSCRIBERS = [1, 4, 16];
export const DEFAULT_READERS = [1, 2, 4];
export const DEFAULT_SIZES = [64, 1024];
/** Deep enough that the queue is not what bounds a broker (the harness raises msg_max for it as root). */
export const DEFAULT_QUEUE_DEPTH = 256;
export const MAX_QUEUE_DEPTH = 65_536;
/** The C clients' table of per-publisher order (MAX_PUBLISHERS in harness/c/bench.h). */
export const MAX_PUBLISHERS = 64;
export const LATENCY_RATES = [1_000, 10_000];

export function defaultPlan(quick: boolean, systems: string[]): Plan {
  return {
    systems,
    subscribers: quick ? [2] : DEFAULT_SUBSCRIBERS,
    readers: quick ? [2] : DEFAULT_READERS,
    sizes: quick ? [64] : DEFAULT_SIZES,
    publishers: 1,
    queueDepth: DEFAULT_QUEUE_DEPTH,
    rounds: quick ? 1 : 2,
    warmup: quick ? 500 : 2_000,
    count: quick ? 5_000 : 20_000,
    inprocCount: quick ? 50_000 : 200_000,
    latencyRates: LATENCY_RATES,
    latencySeconds: quick ? 0.3 : 1,
    quick,
  };
}

/**
 * The phases of one group of processes. Latency is measured in the last
 * round only: it takes fixed wall-clock time, and one set of samples per
 * row is enough for percentiles, while throughput wants every round.
 */
export function phasesFor(plan: Plan, round: number): Phase[] {
  const phases: Phase[] = [
    { kind: 'warm', count: plan.warmup, rate: 0 },
    { kind: 'tput', count: plan.count, rate: 0 },
  ];
  if (round === plan.rounds - 1) {
    for (const rate of plan.latencyRates) phases.push({ kind: 'lat', count: Math.max(1, Math.round(rate * plan.latencySeconds)), rate });
  }
  return phases;
}

/** The form every client (C or Node) takes on its command line: kind:count:rate,... */
export const phasesArg = (phases: Phase[]): string => phases.map((p) => `${p.kind}:${p.count}:${p.rate}`).join(',');

export function parsePhasesArg(text: string): Phase[] {
  return text.split(',').map((part) => {
    const [kind, count, rate] = part.split(':');
    return { kind: kind as PhaseKind, count: Number(count), rate: Number(rate) };
  });
}
