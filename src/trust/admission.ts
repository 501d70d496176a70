/**
 * Who may change the daemon's sinks, decided from the sender's kernel-checked
 * credentials (SO_PASSCRED) and the config. Pure policy: no sockets here,
 * only an lstat of the path a request names and a read of the sender's
 * groups from /proc (both can be swapped for tests).
 *
 *   admissionProblem(policy, cred, groupsOf?): MsgmuxError | null
 *                                                              may this uid, or one of its groups, subscribe at all?
 *   ownershipProblem(path, cred, from, lstat?): MsgmuxError | null
 *                                                              does the sender own the address it names?
 *   removalProblem(policy, cred, sinkKind, ...): MsgmuxError | null
 *                                                              may the sender remove this sink?
 *
 * The rules:
 * - Only the daemon's own uid, root, and the uids and gids the config names
 *   (`allowUids`, `allowGids`; flags --allow-uid, --allow-gid) may register
 *   or remove sinks. A gid is allowed when it is the sender's primary gid, as
 *   the kernel reports it, or one of the sending process's supplementary
 *   groups (/proc/<pid>/status, groups.ts). When those cannot be read (the
 *   process has exited, its pid was reused) only the primary gid counts, and
 *   a refusal says so.
 * - A registration names an address the sender owns: the request was sent
 *   from that very address, or the path is a filesystem socket (lstat: not
 *   a symlink) owned by the sender's uid. An abstract name has no owner, so
 *   only its holder may register it. Root may register any address.
 *   Otherwise a local process could make the daemon send the bus's traffic
 *   to a socket it does not own (a confused deputy).
 * - A dynamic sink is removed by whoever may register it; configured sinks
 *   (static, mq) only by root or the daemon's uid.
 */
import { lstatSync, type Stats } from 'node:fs';
import { ErrorCode, MsgmuxError } from '../errors';
import { supplementaryGroups } from './groups';

export interface Credentials {
  pid: number;
  uid: number;
  gid: number;
}

export interface AdmissionPolicy {
  /** The uid the daemon runs as: always allowed, like root. */
  daemonUid: number;
  allowUids: readonly number[];
  allowGids: readonly number[];
}

const ROOT = 0;

/** Whose request this is, for messages and log lines. */
export const describeSender = (cred: Credentials | null): string =>
  cred ? `uid ${cred.uid} (gid ${cred.gid}, pid ${cred.pid})` : 'a sender without credentials';

const isPrivileged = (policy: AdmissionPolicy, cred: Credentials): boolean => cred.uid === ROOT || cred.uid === policy.daemonUid;

/**
 * Null when `cred` may register sinks; else the refusal, naming the config
 * that would allow it. `groupsOf` is asked only when an allowed gid is not
 * the primary one.
 */
export function admissionProblem(
  policy: AdmissionPolicy,
  cred: Credentials | null,
  groupsOf: (cred: Credentials) => number[] | null = supplementaryGroups,
): MsgmuxError | null {
  if (cred === null) {
    // SO_PASSCRED is on, so the kernel always attaches credentials; their absence means something is wrong.
    return new MsgmuxError(ErrorCode.NOT_ALLOWED, 'the request carried no credentials; it is refused');
  }
  if (isPrivileged(policy, cred) || policy.allowUids.includes(cred.uid) || policy.allowGids.includes(cred.gid)) return null;
  const groups = policy.allowGids.length > 0 ? groupsOf(cred) : [];
  if (groups?.some((gid) => policy.allowGids.includes(gid))) return null;
  const checked =
    groups === null
      ? `; its supplementary groups could not be read (pid ${cred.pid} has exited, or is now another process), so only its primary gid was checked`
      : '';
  return new MsgmuxError(
    ErrorCode.NOT_ALLOWED,
    `${describeSender(cred)} may not subscribe: only root, the daemon's uid ${policy.daemonUid} and the configured uids and gids may${checked}; ` +
      `to allow it, add ${cred.uid} to allowUids (--allow-uid ${cred.uid}) or ${cred.gid} to allowGids (--allow-gid ${cred.gid})`,
  );
}

const notOwner = (path: string, cred: Credentials, why: string): MsgmuxError =>
  new MsgmuxError(
    ErrorCode.NOT_OWNER,
    `${describeSender(cred)} may not register ${path}: ${why}; send the request from the socket you want to receive on`,
  );

/**
 * Null when the sender owns `path`. `from` is the sender's address as the
 * kernel reported it (null when unbound). `lstat` is here so the check can
 * be run against another view of the filesystem; it defaults to the real one.
 */
export function ownershipProblem(
  path: string,
  cred: Credentials,
  from: string | null,
  lstat: (p: string) => Stats = lstatSync,
): MsgmuxError | null {
  if (cred.uid === ROOT || from === path) return null;
  if (path.startsWith('@')) {
    return notOwner(path, cred, `an abstract name can only be registered from that name (the request came from ${from ?? 'an unbound socket'})`);
  }
  let stats: Stats;
  try {
    stats = lstat(path);
  } catch (err) {
    return notOwner(path, cred, `it cannot be checked (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  if (!stats.isSocket()) {
    const what = stats.isSymbolicLink() ? 'a symbolic link' : stats.isDirectory() ? 'a directory' : 'not a socket';
    return notOwner(path, cred, `it is ${what}`);
  }
  if (stats.uid !== cred.uid) return notOwner(path, cred, `the socket belongs to uid ${stats.uid}`);
  return null;
}

/** Null when `cred` may remove a sink of `kind` at `path`. */
export function removalProblem(
  policy: AdmissionPolicy,
  cred: Credentials,
  kind: string,
  path: string,
  from: string | null,
  lstat: (p: string) => Stats = lstatSync,
): MsgmuxError | null {
  if (isPrivileged(policy, cred)) return null;
  if (kind !== 'dynamic') {
    return new MsgmuxError(
      ErrorCode.NOT_OWNER,
      `${describeSender(cred)} may not remove the configured ${kind} sink ${path}: only root and the daemon's uid ${policy.daemonUid} may`,
    );
  }
  return ownershipProblem(path, cred, from, lstat);
}
