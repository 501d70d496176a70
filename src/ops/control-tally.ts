/**
 * Counts of control requests by op and of refusals by error code, kept by
 * the daemon's main thread (one increment per request, never per message)
 * and reported in `stats` and the metrics.
 *
 * Label values stay bounded: an op the daemon does not know counts as
 * `invalid`, and codes beyond MAX_CODES distinct ones count as `other`.
 */
export interface ControlCounts {
  requests: Record<string, number>;
  refusals: Record<string, number>;
}

const OPS = new Set(['subscribe', 'unsubscribe', 'stats', 'attach']);
const MAX_CODES = 64;

export class ControlTally {
  private readonly requests = new Map<string, number>();
  private readonly refusals = new Map<string, number>();

  /** One request received; `op` is undefined when it could not be parsed. */
  request(op: string | undefined): void {
    const key = op !== undefined && OPS.has(op) ? op : 'invalid';
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
  }

  refusal(code: string): void {
    const key = this.refusals.has(code) || this.refusals.size < MAX_CODES ? code : 'other';
    this.refusals.set(key, (this.refusals.get(key) ?? 0) + 1);
  }

  snapshot(): ControlCounts {
    return { requests: Object.fromEntries(this.requests), refusals: Object.fromEntries(this.refusals) };
  }
}
