/** What a process holds, from /proc: open descriptors, threads, resident memory. */
import { readdirSync, readFileSync } from 'node:fs';

export interface Resources {
  fds: number;
  threads: number;
  rssKiB: number;
}

export function resourcesOf(pid: number): Resources {
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return {
    fds: readdirSync(`/proc/${pid}/fd`).length,
    threads: readdirSync(`/proc/${pid}/task`).length,
    rssKiB: rss ? Number(rss[1]) : 0,
  };
}
