import fs from 'node:fs';
import type { MessagePort } from 'node:worker_threads';

/**
 * What the fanout benchmark's main thread and its worker threads say to each
 * other. Workers live for a whole configuration (transport x readers x size)
 * and run one round per `run` message, so the first round warms up the JIT
 * and the later ones are measured on warm code without respawning threads.
 */

/** `ring-single`: one record per call (tryWrite / writeSync, readSync); the other ring transports use batch calls. */
export type Transport = 'ring-single' | 'ring-copy' | 'ring-zero-copy' | 'broadcast-channel' | 'message-port';

export interface FanoutWorkerData {
  role: 'writer' | 'reader';
  transport: Transport;
  /** Payload bytes per message; the first 4 bytes carry its sequence number. */
  size: number;
  /** The ring's buffer (ring transports only). */
  ringBuffer?: SharedArrayBuffer;
  /** BroadcastChannel name (broadcast-channel only). */
  channelName?: string;
  /** MessagePort transport: the writer's end of each reader's channel, or the reader's end. */
  ports?: MessagePort[];
  /** Records per writer call / most records per reader call. */
  batch: number;
  /**
   * Shared clock: [0] is when the writer began the current round, as
   * `performance.timeOrigin + performance.now()`, which is comparable across
   * threads of one process.
   */
  clock: Float64Array;
}

/** main -> worker */
export type FanoutCommand = { type: 'run'; count: number } | { type: 'stop' };

/** worker -> main */
export type FanoutReport =
  | { type: 'armed' }
  | { type: 'written'; startedAt: number; endedAt: number; thread: ThreadTimes | null }
  | { type: 'received'; count: number; endedAt: number; outOfOrder: number; wrongLength: number; thread: ThreadTimes | null }
  | { type: 'stopped' };

/** What the kernel says one thread did: robust to noise where wall-clock rates are not. */
export interface ThreadTimes {
  /** Time on a CPU. */
  cpuMs: number;
  /** Time runnable but waiting for a CPU: threads outnumber cores, or other load. */
  runQueueMs: number;
}

/**
 * This thread's scheduler statistics (Linux /proc/thread-self/schedstat:
 * ns on CPU, ns waiting on a run queue), or null where unavailable.
 */
export function threadTimes(): ThreadTimes | null {
  try {
    const [cpuNs, waitNs] = fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').map(Number);
    return { cpuMs: cpuNs / 1e6, runQueueMs: waitNs / 1e6 };
  } catch {
    return null;
  }
}

/** Times spent between two readings of `threadTimes`. */
export function timesSince(start: ThreadTimes | null): ThreadTimes | null {
  const end = threadTimes();
  return start && end ? { cpuMs: end.cpuMs - start.cpuMs, runQueueMs: end.runQueueMs - start.runQueueMs } : null;
}

/** Wall-clock milliseconds with sub-millisecond resolution, comparable between threads. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Generous bound for any single blocking call: a stuck benchmark fails instead of hanging. */
export const STALL_TIMEOUT_MS = 30_000;
