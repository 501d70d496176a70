/**
 * The writer's view of its readers: which gating cursor is slowest, and
 * which `evict` reader has stalled past its budget.
 *
 * `block` and `evict` readers gate the writer: it never overwrites a byte a
 * gating reader has not released. `drop` readers never gate. Free, claiming
 * and evicted slots are skipped, so a reader that leaves (or is reclaimed
 * after its thread died) stops gating the moment its state changes.
 */
import { Header, PolicyCode, Slot, SlotState, type RingViews } from './layout';
import { forEachReaderSlot, stateWord } from './reader-slots';
import { seqDiff } from './sequence';

export class Gating {
  // Per reader slot stall tracking for `evict`: the cursor last seen and since when.
  private readonly stalledCursor: Int32Array;
  private readonly stalledSince: Float64Array;

  constructor(private readonly ring: RingViews) {
    this.stalledCursor = new Int32Array(ring.maxReaders);
    this.stalledSince = new Float64Array(ring.maxReaders);
  }

  /**
   * The slowest gating cursor, as a distance behind `position` (0 when no
   * reader gates, or all have caught up).
   */
  slowestLag(position: number): number {
    const { i32 } = this.ring;
    let lag = 0;
    forEachReaderSlot(this.ring, (_readerSlot, base, state, control) => {
      if (state !== SlotState.ACTIVE || i32[control + Slot.POLICY] === PolicyCode.drop) return;
      const behind = seqDiff(position, Atomics.load(i32, base + Slot.CURSOR));
      if (behind > lag) lag = behind;
    });
    return lag;
  }

  /**
   * Evicts every `evict` reader that holds back a write ending at `end` and
   * has not moved for longer than its budget. Returns how many it evicted.
   */
  evictStalled(end: number, now: number): number {
    const { i32, capacity } = this.ring;
    let evicted = 0;
    forEachReaderSlot(this.ring, (readerSlot, base, state, control) => {
      if (state !== SlotState.ACTIVE || i32[control + Slot.POLICY] !== PolicyCode.evict) return;
      const cursor = Atomics.load(i32, base + Slot.CURSOR);
      if (seqDiff(end, cursor) <= capacity) return; // not in the way
      if (this.stalledCursor[readerSlot] !== cursor || this.stalledSince[readerSlot] === 0) {
        this.stalledCursor[readerSlot] = cursor;
        this.stalledSince[readerSlot] = now;
        return;
      }
      if (now - this.stalledSince[readerSlot] < i32[control + Slot.BUDGET_MS]) return;
      if (Atomics.compareExchange(i32, stateWord(base, control), SlotState.ACTIVE, SlotState.EVICTED) === SlotState.ACTIVE) {
        Atomics.add(i32, Header.EVICTIONS, 1);
        this.stalledSince[readerSlot] = 0;
        evicted++;
      }
    });
    return evicted;
  }

  /** Time until the earliest stalled `evict` reader's budget runs out (Infinity if none). */
  nextEvictionIn(now: number): number {
    const { i32 } = this.ring;
    let soonest = Infinity;
    forEachReaderSlot(this.ring, (readerSlot, _base, state, control) => {
      if (state !== SlotState.ACTIVE || this.stalledSince[readerSlot] === 0) return;
      soonest = Math.min(soonest, Math.max(0, this.stalledSince[readerSlot] + i32[control + Slot.BUDGET_MS] - now));
    });
    return soonest;
  }
}
