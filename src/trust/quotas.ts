/**
 * Per-uid limits on registrations, so one user cannot take every sink slot
 * or keep the daemon busy starting and stopping workers.
 *
 *   const quotas = new UidQuotas({ maxSinksPerUid: 16, registrationsPerSecond: 50 });
 *   quotas.admit(uid, newSink?)  throws ERR_MSGMUX_RATE_LIMITED / ERR_MSGMUX_SINK_QUOTA, else takes one token
 *   quotas.added(uid, key)       a sink of uid now exists
 *   quotas.removed(key)          it is gone (any reason)
 *   quotas.sinksOf(uid), quotas.keysOf(uid), quotas.atSinkLimit(uid)
 *
 * The rate is a token bucket per uid holding `registrationsPerSecond` tokens
 * and refilled at that rate: a burst of that many, then that many per second.
 * Every subscribe request that passes parsing and admission costs a token,
 * whether or not it then succeeds; buckets of uids that are full again are
 * forgotten, so the map stays as small as the set of busy uids.
 * Each error names the limit and the config field and flag that raise it.
 */
import { ErrorCode, MsgmuxError } from '../errors';

export interface QuotaLimits {
  maxSinksPerUid: number;
  registrationsPerSecond: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class UidQuotas {
  private readonly buckets = new Map<number, Bucket>();
  private readonly owners = new Map<string, number>();
  private readonly counts = new Map<number, number>();

  constructor(
    private limits: QuotaLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** New limits (a reload); the counts and buckets carry over. */
  setLimits(limits: QuotaLimits): void {
    this.limits = limits;
  }

  sinksOf(uid: number): number {
    return this.counts.get(uid) ?? 0;
  }

  /** Whether a new sink of `uid` would be refused for the number it holds. */
  atSinkLimit(uid: number): boolean {
    return this.sinksOf(uid) >= this.limits.maxSinksPerUid;
  }

  /** The keys (sink addresses, reader slots) `uid` holds. */
  keysOf(uid: number): string[] {
    return [...this.owners].filter(([, owner]) => owner === uid).map(([key]) => key);
  }

  /**
   * Checks the limits for a registration by `uid` and spends one token;
   * throws when one is hit. Registering a sink that already exists takes no new slot.
   */
  admit(uid: number, newSink = true): void {
    const rate = this.limits.registrationsPerSecond;
    const now = this.now();
    const bucket = this.buckets.get(uid) ?? { tokens: rate, at: now };
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
    if (bucket.tokens < 1) {
      this.buckets.set(uid, bucket);
      throw new MsgmuxError(
        ErrorCode.RATE_LIMITED,
        `uid ${uid} sent more than ${rate} registrations per second (registrationsPerSecond); ` +
          `wait and retry, or raise it with --registrations-per-second`,
      );
    }
    bucket.tokens -= 1;
    this.buckets.set(uid, bucket);
    this.forgetFullBuckets(now);

    const held = this.sinksOf(uid);
    if (newSink && this.atSinkLimit(uid)) {
      throw new MsgmuxError(
        ErrorCode.SINK_QUOTA,
        `uid ${uid} already has ${held} sinks, the most one uid may have (maxSinksPerUid ${this.limits.maxSinksPerUid}); ` +
          `unsubscribe one, or raise it with --max-sinks-per-uid`,
      );
    }
  }

  added(uid: number, key: string): void {
    if (this.owners.has(key)) return;
    this.owners.set(key, uid);
    this.counts.set(uid, this.sinksOf(uid) + 1);
  }

  removed(key: string): void {
    const uid = this.owners.get(key);
    if (uid === undefined) return;
    this.owners.delete(key);
    const left = this.sinksOf(uid) - 1;
    if (left > 0) this.counts.set(uid, left);
    else this.counts.delete(uid);
  }

  /** A bucket that has refilled completely says nothing a fresh one would not. */
  private forgetFullBuckets(now: number): void {
    if (this.buckets.size < 64) return;
    const rate = this.limits.registrationsPerSecond;
    for (const [uid, bucket] of this.buckets) {
      if (bucket.tokens + ((now - bucket.at) / 1000) * rate >= rate) this.buckets.delete(uid);
    }
  }
}
