/** What a process has cost so far, from /proc: CPU seconds (utime + stime of /proc/<pid>/stat) and resident memory. */
import fs from 'node:fs';

/** USER_HZ: the unit of /proc/<pid>/stat times. 100 on every Linux architecture Node runs on. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime in clock ticks, and the thread's name, from a /proc/.../stat line. */
export function parseStat(text: string): { name: string; ticks: number } {
  const close = text.lastIndexOf(')');
  const name = text.slice(text.indexOf('(') + 1, close);
  // Fields after the name start at field 3 (state); utime and stime are fields 14 and 15.
  const fields = text.slice(close + 2).split(' ');
  return { name, ticks: Number(fields[11]) + Number(fields[12]) };
}

/** CPU seconds used by `pid` so far (all its threads), or NaN once it is gone. */
export function cpuSeconds(pid: number): number {
  try {
    return parseStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')).ticks / CLOCK_TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** Resident set size now, in KiB, or NaN once it is gone. */
export function residentKiB(pid: number): number {
  try {
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}
