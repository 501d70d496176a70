/**
 * A process's supplementary groups, for admission by gid (admission.ts). The
 * credentials the kernel attaches to a datagram (SO_PASSCRED) carry a pid,
 * a uid and one gid, the primary; the rest of a process's groups are only in
 * /proc/<pid>/status, as it is now.
 *
 *   supplementaryGroups(cred, procRoot = '/proc'): number[] | null
 *
 * null when they cannot be known: the process has exited, or its pid now
 * belongs to a process of another real uid or gid than the credentials name
 * (it exited and the pid was reused), or /proc hides it (hidepid).
 */
import { readFileSync } from 'node:fs';
import type { Credentials } from './admission';

/** The first (real) id of a `Uid:` or `Gid:` line, and every id of `Groups:`. */
const idsOf = (status: string, label: string): number[] | null => {
  const match = new RegExp(`^${label}:[ \\t]*([0-9 \\t]*)$`, 'm').exec(status);
  return match ? match[1].split(/\s+/).filter((id) => id !== '').map(Number) : null;
};

export function supplementaryGroups(cred: Credentials, procRoot = '/proc'): number[] | null {
  let status: string;
  try {
    status = readFileSync(`${procRoot}/${cred.pid}/status`, 'utf8');
  } catch {
    return null;
  }
  if (idsOf(status, 'Uid')?.[0] !== cred.uid || idsOf(status, 'Gid')?.[0] !== cred.gid) return null;
  return idsOf(status, 'Groups');
}
