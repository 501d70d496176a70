/**
 * What another process costs, from /proc: resident memory, and CPU time
 * (utime + stime, and schedstat run time) over an interval, per process and per thread.
 */
import fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLOCK_TICKS_PER_SECOND, parseStat } from '../../src/bench/proc-stat';

function statusField(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
  return Number(match[1]);
}

/** Resident set size now, in KiB. */
export const residentKiB = (pid: number): number => statusField(pid, 'VmRSS');
/** Highest resident set size so far, in KiB. */
export const peakResidentKiB = (pid: number): number => statusField(pid, 'VmHWM');

/** Per thread: its name, utime + stime in ticks, and its time on a CPU in ns (schedstat, far finer than ticks). */
function threadTimes(pid: number): Map<string, { name: string; ticks: number; onCpuNs: number }> {
  const threads = new Map<string, { name: string; ticks: number; onCpuNs: number }>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = parseStat(fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8'));
      const onCpuNs = Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      threads.set(tid, { ...stat, onCpuNs });
    } catch {
      // the thread ended between readdir and read
    }
  }
  return threads;
}

export interface CpuUse {
  /** utime + stime over the interval (the process's, from /proc/<pid>/stat), as a share of one core (0.01 = 1%). */
  shareOfOneCore: number;
  ticks: number;
  /** The same from the threads' schedstat run times: nanosecond resolution where ticks have 10 ms. */
  shareOfOneCoreFromSchedstat: number;
  seconds: number;
  /** Threads that ran in the interval, busiest first (Node names every thread "node": told apart by tid). */
  busyThreads: { tid: number; name: string; ticks: number; onCpuMs: number }[];
}

/** Samples the process's CPU time over `ms` milliseconds. */
export async function cpuUseOver(pid: number, ms: number): Promise<CpuUse> {
  const processTicks = (): number => parseStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')).ticks;
  const threadsBefore = threadTimes(pid);
  const before = processTicks();
  const started = process.hrtime.bigint();
  await sleep(ms);
  const ticks = processTicks() - before;
  const threadsAfter = threadTimes(pid);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const busyThreads = [...threadsAfter]
    .map(([tid, t]) => {
      const was = threadsBefore.get(tid);
      return { tid: Number(tid), name: t.name, ticks: t.ticks - (was?.ticks ?? 0), onCpuMs: (t.onCpuNs - (was?.onCpuNs ?? 0)) / 1e6 };
    })
    .filter((t) => t.onCpuMs > 0)
    .sort((a, b) => b.onCpuMs - a.onCpuMs);
  const onCpuSeconds = busyThreads.reduce((sum, t) => sum + t.onCpuMs, 0) / 1000;
  return {
    shareOfOneCore: ticks / CLOCK_TICKS_PER_SECOND / seconds,
    ticks,
    shareOfOneCoreFromSchedstat: onCpuSeconds / seconds,
    seconds,
    busyThreads,
  };
}

/** x86-64 numbers of the syscalls a waiting Node thread sits in. */
const WAIT_SYSCALLS: Record<string, string> = { 7: 'poll', 202: 'futex', 232: 'epoll_wait', 281: 'epoll_pwait', 243: 'mq_timedreceive', 242: 'mq_timedsend' };

/**
 * Per thread (by tid): its name, voluntary context switches so far (each one
 * a sleep the thread woke from), and the syscall it is blocked in now (a hint
 * at which thread it is: Node names them all "node").
 */
export function voluntarySwitches(pid: number): Map<number, { name: string; switches: number; waitingIn: string }> {
  const threads = new Map<number, { name: string; switches: number; waitingIn: string }>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const name = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '?';
      let waitingIn = '?';
      try {
        const nr = fs.readFileSync(`/proc/${pid}/task/${tid}/syscall`, 'utf8').split(' ')[0];
        waitingIn = WAIT_SYSCALLS[nr] ?? (nr === 'running' ? 'running' : `syscall ${nr}`);
      } catch {
        // not readable (another user's process): only the hint is lost
      }
      threads.set(Number(tid), { name, waitingIn, switches: Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? NaN) });
    } catch {
      // the thread ended between readdir and read
    }
  }
  return threads;
}
