/**
 * How busy the machine was with work that is not the benchmark's: CPU time
 * of every process outside this process's tree, sampled from /proc every
 * `intervalMs`. A process that starts and ends between two samples is
 * missed, so this is a lower bound — enough to tell a quiet run from one
 * that shared the machine with a test suite.
 *
 *   const load = ForeignLoad.start();
 *   ...
 *   load.stop();   // { cpuSeconds, wallSeconds, shareOfMachine }
 */
import fs from 'node:fs';
import os from 'node:os';

const CLOCK_TICKS_PER_SECOND = 100;

export interface ForeignLoadReport {
  /** CPU time other processes used while the benchmark ran. */
  cpuSeconds: number;
  wallSeconds: number;
  /** cpuSeconds / (wallSeconds × CPUs): 0.5 means other work took half the machine. */
  shareOfMachine: number;
}

interface ProcessSample {
  parent: number;
  ticks: number;
}

function sampleProcesses(): Map<number, ProcessSample> {
  const processes = new Map<number, ProcessSample>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
      processes.set(Number(entry), { parent: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // gone between readdir and read
    }
  }
  return processes;
}

function isOurs(pid: number, processes: Map<number, ProcessSample>): boolean {
  for (let at = pid, hops = 0; at > 1 && hops < 64; hops++) {
    if (at === process.pid) return true;
    at = processes.get(at)?.parent ?? 0;
  }
  return false;
}

export class ForeignLoad {
  private readonly lastTicks = new Map<number, number>();
  private foreignTicks = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly started = process.hrtime.bigint();

  private constructor(intervalMs: number) {
    this.sample(true);
    this.timer = setInterval(() => this.sample(false), intervalMs);
    this.timer.unref();
  }

  static start(intervalMs = 500): ForeignLoad {
    return new ForeignLoad(intervalMs);
  }

  stop(): ForeignLoadReport {
    clearInterval(this.timer);
    this.sample(false);
    const wallSeconds = Number(process.hrtime.bigint() - this.started) / 1e9;
    const cpuSeconds = this.foreignTicks / CLOCK_TICKS_PER_SECOND;
    return { cpuSeconds, wallSeconds, shareOfMachine: cpuSeconds / (wallSeconds * os.cpus().length) };
  }

  /** Adds what each foreign process used since the last sample (a new one: since it started, unless this is the first sample). */
  private sample(first: boolean): void {
    const processes = sampleProcesses();
    for (const [pid, { ticks }] of processes) {
      if (isOurs(pid, processes)) continue;
      const before = this.lastTicks.get(pid);
      if (!first) this.foreignTicks += ticks - (before ?? 0);
      this.lastTicks.set(pid, ticks);
    }
    for (const pid of this.lastTicks.keys()) if (!processes.has(pid)) this.lastTicks.delete(pid);
  }
}
