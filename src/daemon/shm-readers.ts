/**
 * The daemon's ring in a shared-memory file (config `shm`), and the reader
 * processes attached to it through the control socket's `attach` op.
 *
 * Who may attach: the kernel-checked credentials of the requesting process
 * (SO_PASSCRED, as the control receiver reports them), through the same
 * request guard as subscribe (src/trust: root, the daemon's uid, allowUids /
 * allowGids; the per-uid sink quota and registration rate). The ring file's
 * owner, group and mode decide who can open it at all; a grant only adds a
 * cursor the writer gates on.
 *
 * Each attached reader counts as a live sink (ingest reads the queue only
 * while one is), from its grant until its slot is taken back: when the
 * process exits (pidfd, at once), or when `sweep` finds it closed or
 * evicted (on a timer), or at stop.
 */
import type { ShmConfig } from '../config';
import type { ControlRequest } from '../control-protocol';
import { ErrorCode, MsgmuxError, hasCode } from '../errors';
import type { Logger } from '../log';
import { ShmRing, type ShmGrant } from '../shm';
import type { SinkPolicy } from '../sink/spec';
import type { Credentials } from '../trust/admission';
import type { SharedState } from './shared-state';

/** The part of the request guard an attach goes through (src/trust/guard.ts). */
export interface AttachGuard {
  checkAttach(cred: Credentials | null): asserts cred is Credentials;
  registered(key: string, cred: Credentials): void;
  ended(key: string): void;
}

export interface ShmReaderStats {
  readerSlot: number;
  pid: number;
  uid: number;
  policy: string;
  /** As the reader last published it in its own slot (the reader's word, not the daemon's). */
  delivered: number;
  /** Bytes published that the reader has not released. */
  lag: number;
}

export interface ShmStats {
  name: string;
  readers: ShmReaderStats[];
}

const SWEEP_MS = 1000;

export class ShmReaders {
  private readonly who = new Map<number, Credentials>();
  /** The guard that admitted each slot, told when it ends (quota bookkeeping). */
  private readonly guards = new Map<number, AttachGuard>();
  private readonly sweeper: NodeJS.Timeout;

  private constructor(
    readonly host: ShmRing,
    private readonly shared: SharedState,
    private readonly log: Logger,
  ) {
    host.onRelease = (grant, pid, reason) => {
      this.who.delete(grant.readerSlot);
      this.guards.get(grant.readerSlot)?.ended(this.keyOf(grant.readerSlot));
      this.guards.delete(grant.readerSlot);
      shared.addLiveSinks(-1);
      log.info({ readerSlot: grant.readerSlot, readerPid: pid, reason }, 'shared-memory reader detached');
    };
    this.sweeper = setInterval(() => host.sweep(), SWEEP_MS).unref();
  }

  /** Creates the ring file; an existing one is refused, never taken over (it may be another daemon's). */
  static create(config: ShmConfig, capacity: number, threadReaders: number, shared: SharedState, log: Logger): ShmReaders {
    try {
      const host = ShmRing.create({
        name: config.name,
        capacity,
        maxReaders: threadReaders,
        processReaders: config.readers,
        mode: config.mode,
        uid: config.owner,
        gid: config.group,
      });
      return new ShmReaders(host, shared, log);
    } catch (err) {
      if (!hasCode(err, 'EEXIST')) throw err;
      throw new MsgmuxError(
        ErrorCode.SHM_EXISTS,
        `shared-memory ring ${config.name} exists already (/dev/shm${config.name}): another daemon uses it, or one that crashed left it; ` +
          'stop that daemon or remove the file',
        { cause: err },
      );
    }
  }

  /** Grants the requesting process a reader slot, if the guard admits its uid. */
  attach(
    request: Extract<ControlRequest, { op: 'attach' }>,
    cred: Credentials | null,
    defaults: { policy: SinkPolicy; evictAfterMs: number },
    guard: AttachGuard,
  ): ShmGrant {
    guard.checkAttach(cred);
    const grant = this.host.grant({
      pid: cred.pid,
      uid: cred.uid,
      gid: cred.gid,
      policy: request.policy ?? defaults.policy,
      evictAfterMs: request.evictAfterMs ?? defaults.evictAfterMs,
      start: request.start ?? 'latest',
    });
    this.who.set(grant.readerSlot, cred);
    this.guards.set(grant.readerSlot, guard);
    guard.registered(this.keyOf(grant.readerSlot), cred);
    this.shared.addLiveSinks(1);
    this.log.info({ readerSlot: grant.readerSlot, readerPid: cred.pid, readerUid: cred.uid, policy: request.policy ?? defaults.policy }, 'shared-memory reader attached');
    return grant;
  }

  /** How the guard's quota books a slot: no sink path can look like it. */
  private keyOf(readerSlot: number): string {
    return `shm:${this.host.name}#${readerSlot}`;
  }

  stats(): ShmStats {
    const snapshots = new Map(this.host.ring.readers().map((r) => [r.readerSlot, r] as const));
    const readers = this.host.grants.map(({ readerSlot }): ShmReaderStats => {
      const cred = this.who.get(readerSlot);
      const snapshot = snapshots.get(readerSlot);
      return {
        readerSlot,
        pid: cred?.pid ?? 0,
        uid: cred?.uid ?? -1,
        policy: snapshot?.policy ?? 'block',
        delivered: snapshot?.delivered ?? 0,
        lag: snapshot?.lag ?? 0,
      };
    });
    return { name: this.host.name, readers };
  }

  /** Takes every slot back and removes the ring file (after the ring's threads are done with it). */
  close(): void {
    clearInterval(this.sweeper);
    this.host.close();
  }
}
