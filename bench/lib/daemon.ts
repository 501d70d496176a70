/**
 * A msgmux daemon run by a benchmark: its own queue and control names, the
 * real CLI (`msgmux start`) as a child process, control calls, and a queue
 * that is unlinked however the benchmark ends.
 */
import path from 'node:path';
import { controlCall } from '../../src/control-client';
import type { DaemonStats } from '../../src/daemon/daemon';
import { Child } from '../../src/bench/child';
import { onCleanup } from '../../src/bench/cleanup';
import { packageRoot } from './report';
import { unlinkBusQueues } from '../../src/daemon/bus-queue';

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;

let started = 0;

export interface DaemonOptions {
  queueDepth: number;
  maxMessage: number;
  ringSize?: string;
}

/** True for a pino JSON line whose msg starts with `text`. */
export const logged = (text: string) => (line: string): boolean => {
  try {
    return (JSON.parse(line) as { msg?: string }).msg?.startsWith(text) ?? false;
  } catch {
    return false;
  }
};

export class BenchDaemon {
  private readonly unlinkQueue: () => void;

  private constructor(
    readonly child: Child,
    readonly queue: string,
    readonly control: string,
    /** A prefix for the abstract addresses of this daemon's sinks. */
    readonly addressPrefix: string,
  ) {
    // Never created if the daemon failed to start: unlinkBusQueues skips what is not there.
    this.unlinkQueue = onCleanup(() => unlinkBusQueues(queue));
  }

  static async start(options: DaemonOptions): Promise<BenchDaemon> {
    const id = `${process.pid}-${++started}`;
    const queue = `/msgmux-bench-${id}`;
    const prefix = `@msgmux-bench/${id}`;
    const args = ['start', '--queue', queue, '--control', `${prefix}/control`, '--queue-depth', String(options.queueDepth), '--max-message', String(options.maxMessage)];
    if (options.ringSize) args.push('--ring-size', options.ringSize);
    const child = new Child(`daemon ${queue}`, path.join(packageRoot(), 'bin', 'msgmux'), args);
    const daemon = new BenchDaemon(child, queue, `${prefix}/control`, prefix);
    try {
      await child.waitForLog(logged('msgmux started'), 'the "msgmux started" log line', START_TIMEOUT_MS);
    } catch (err) {
      await daemon.stop();
      throw err;
    }
    return daemon;
  }

  get pid(): number {
    return this.child.pid;
  }

  async stats(): Promise<DaemonStats> {
    return (await controlCall(this.control, { op: 'stats' })) as unknown as DaemonStats;
  }

  async subscribe(address: string, policy: 'block' | 'drop' | 'evict' = 'block'): Promise<void> {
    await controlCall(this.control, { op: 'subscribe', path: address, policy }, { timeoutMs: 15_000 });
  }

  async unsubscribe(address: string): Promise<void> {
    await controlCall(this.control, { op: 'unsubscribe', path: address }, { timeoutMs: 15_000 });
  }

  /** SIGTERM (drain, exit 0), SIGKILL after a deadline; then the queue is unlinked. Returns the exit code. */
  async stop(): Promise<number | string> {
    try {
      return await this.child.stop(STOP_TIMEOUT_MS);
    } finally {
      this.unlinkQueue();
    }
  }
}
