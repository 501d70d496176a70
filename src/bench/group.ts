/**
 * One group: N subscriber processes, then the publisher (or several, each
 * sending its share, started on the same word), then every phase on the
 * harness's word, with per-phase reports from all of them (the publishers'
 * merged into one: what they sent together, from the first start to the
 * last end), the broker's
 * and the clients' CPU time (/proc/<pid>/stat) over the throughput phase and
 * the broker's memory after it. Every process is stopped however it ends.
 */
import path from 'node:path';
import { Child } from './child';
import { latencyFromFiles, type Latency } from './histogram';
import { phasesArg, type Phase } from './plan';
import { cpuSeconds, residentKiB } from './proc-stat';
import type { Group, Launch } from './system';

const READY_TIMEOUT_MS = 30_000;
const PHASE_TIMEOUT_MS = 60_000;
/** A lossy system's sink ends a phase that has been quiet this long; a lossless one waits for all of it (a pause under load is no loss). */
export const LOSSY_IDLE_MS = 1_000;
export const LOSSLESS_IDLE_MS = 30_000;

export interface SinkPhase { phase: number; received: number; dup: number; reordered: number; lost: number; firstNs: number; lastNs: number }
export interface PublishPhase { phase: number; sent: number; startNs: number; endNs: number }

export interface GroupSample {
  phases: Phase[];
  /** One per phase, merged over the publishers. */
  publisher: PublishPhase[];
  /** [phase][subscriber] */
  sinks: SinkPhase[][];
  /** Over the throughput phase; null without a broker process. */
  brokerCpuSec: number | null;
  clientCpuSec: number;
  brokerRssKiB: number | null;
  /** One per latency phase, in order. */
  latency: { rate: number; latency: Latency | null }[];
}

function spawn(launch: Launch, extra: string[]): Child {
  return new Child(launch.label, launch.file, [...launch.args, ...extra], { exec: !launch.node });
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

/** The publishers' reports of one phase as one: all they sent, from the first start to the last end. */
const merged = (reports: PublishPhase[]): PublishPhase => ({
  phase: reports[0].phase,
  sent: sum(reports.map((r) => r.sent)),
  startNs: Math.min(...reports.map((r) => r.startNs)),
  endNs: Math.max(...reports.map((r) => r.endNs)),
});

export async function runGroup(group: Group, brokerPid: number | undefined, phases: Phase[], size: number, dir: string, idleMs = LOSSY_IDLE_MS): Promise<GroupSample> {
  const publishers = group.publishers ?? 1;
  const common = ['--phases', phasesArg(phases), '--size', String(Math.max(16, size)), '--publishers', String(publishers)];
  const latPrefix = (k: number): string => path.join(dir, `lat-${k}`);
  const sinks = group.subscribers.map((launch, k) => spawn(launch, [...common, '--idle-ms', String(idleMs), '--lat-prefix', latPrefix(k)]));
  const children = [...sinks];
  try {
    await Promise.all(sinks.map((sink) => sink.next('ready', READY_TIMEOUT_MS)));
    const publisherGroup = Array.from({ length: publishers }, (_, p) =>
      spawn(publishers > 1 ? { ...group.publisher, label: `${group.publisher.label} ${p}` } : group.publisher, [...common, '--publisher', String(p)]));
    children.push(...publisherGroup);
    await Promise.all(publisherGroup.map((publisher) => publisher.next('ready', READY_TIMEOUT_MS)));
    const sample: GroupSample = { phases, publisher: [], sinks: [], brokerCpuSec: null, clientCpuSec: 0, brokerRssKiB: null, latency: [] };
    for (const [k, phase] of phases.entries()) {
      const timeout = PHASE_TIMEOUT_MS + (phase.rate > 0 ? (phase.count / phase.rate) * 1000 : 0);
      const cpuBefore = children.map((c) => cpuSeconds(c.pid));
      const brokerBefore = brokerPid ? cpuSeconds(brokerPid) : NaN;
      for (const publisher of publisherGroup) publisher.send({ go: k });
      const [published, received] = await Promise.all([
        Promise.all(publisherGroup.map((publisher) => publisher.next<PublishPhase>(`phase ${k} report`, timeout))),
        Promise.all(sinks.map((sink) => sink.next<SinkPhase>(`phase ${k} report`, timeout))),
      ]);
      sample.publisher.push(merged(published));
      sample.sinks.push(received);
      if (phase.kind === 'tput') {
        sample.clientCpuSec = sum(children.map((c, i) => cpuSeconds(c.pid) - cpuBefore[i]));
        if (brokerPid) {
          sample.brokerCpuSec = cpuSeconds(brokerPid) - brokerBefore;
          sample.brokerRssKiB = residentKiB(brokerPid);
        }
      }
      if (phase.kind === 'lat') sample.latency.push({ rate: phase.rate, latency: latencyFromFiles(sinks.map((_, s) => `${latPrefix(s)}.${k}`)) });
    }
    return sample;
  } finally {
    await Promise.all(children.map((c) => c.endInput(5_000).catch(() => undefined)));
  }
}

