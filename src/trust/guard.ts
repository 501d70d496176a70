/**
 * The daemon's gate for requests that change its sinks: admission,
 * ownership and per-uid quotas (admission.ts, quotas.ts) applied in that
 * order, and the bookkeeping of which uid holds which sink.
 *
 *   const guard = new RequestGuard(config);
 *   guard.checkSubscribe(path, cred, from, exists)   throws MsgmuxError; spends a registration token
 *   guard.heldAtLimit(cred)                           what the uid holds, when it is at its sink limit
 *   guard.registered(path, cred)                      once the sink has joined
 *   guard.checkUnsubscribe(path, kind, cred, from)   throws MsgmuxError
 *   guard.ended(path)                                 whenever a sink ends, for any reason
 *   guard.checkAttach(cred)                           a slot in the shared-memory ring: admission, quota, rate
 *   guard.configure(config)                           a reload
 *
 * `stats` is not gated: it names sinks and counts, never message contents.
 */
import type { DaemonConfig } from '../config';
import type { SinkKind } from '../sink/spec';
import { admissionProblem, ownershipProblem, removalProblem, type AdmissionPolicy, type Credentials } from './admission';
import { UidQuotas } from './quotas';

type GuardConfig = Pick<DaemonConfig, 'allowUids' | 'allowGids' | 'maxSinksPerUid' | 'registrationsPerSecond'>;

export class RequestGuard {
  private policy: AdmissionPolicy;
  private readonly quotas: UidQuotas;

  constructor(config: GuardConfig, private readonly daemonUid = process.getuid!()) {
    this.policy = { daemonUid, allowUids: config.allowUids, allowGids: config.allowGids };
    this.quotas = new UidQuotas(config);
  }

  /** A reload: new allow lists and limits apply to the next request; sinks already admitted stay. */
  configure(config: GuardConfig): void {
    this.policy = { daemonUid: this.daemonUid, allowUids: config.allowUids, allowGids: config.allowGids };
    this.quotas.setLimits(config);
  }

  checkSubscribe(path: string, cred: Credentials | null, from: string | null, exists: boolean): asserts cred is Credentials {
    const refused = admissionProblem(this.policy, cred) ?? ownershipProblem(path, cred!, from);
    if (refused) throw refused;
    this.quotas.admit(cred!.uid, !exists);
  }

  /**
   * What a new sink of `cred`'s uid would be refused for holding: the sinks
   * (and reader slots) it holds, when it is at its limit; else none.
   */
  heldAtLimit(cred: Credentials | null): string[] {
    return cred && this.quotas.atSinkLimit(cred.uid) ? this.quotas.keysOf(cred.uid) : [];
  }

  registered(path: string, cred: Credentials): void {
    this.quotas.added(cred.uid, path);
  }

  /** `kind` is undefined when no such sink exists: then only admission is checked, so a stranger learns nothing. */
  checkUnsubscribe(path: string, kind: SinkKind | undefined, cred: Credentials | null, from: string | null): void {
    const refused = admissionProblem(this.policy, cred) ?? (kind && removalProblem(this.policy, cred!, kind, path, from));
    if (refused) throw refused;
  }

  /** An attach (src/daemon/shm-readers.ts): the same admission, quota and rate as a new sink; no address to own. */
  checkAttach(cred: Credentials | null): asserts cred is Credentials {
    const refused = admissionProblem(this.policy, cred);
    if (refused) throw refused;
    this.quotas.admit(cred!.uid, true);
  }

  ended(path: string): void {
    this.quotas.removed(path);
  }
}
