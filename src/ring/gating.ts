/**
 * The writer's view of its readers: which gating cursor is slowest, and
 * which `evict` reader has stalled past its budget.
 *
 * `block` and `evict` readers gate the writer: it never overwrites a byte a
 * gating reader has not released. `drop` readers never gate. Free, claiming
 * and evicted slots are skipped, so a reader that leaves (or is reclaimed
 * after its thread died) stops gating the moment its state changes.
 */
import { Header, PolicyCode, Slot, SlotState, slotWord, type RingViews } from './layout';

export class Gating {
  // Per-slot stall tracking for `evict`: the cursor last seen and since when.
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
    const slots = Atomics.load(i32, Header.SLOT_HIGH_WATER);
    let lag = 0;
    for (let s = 0; s < slots; s++) {
      const w = slotWord(s);
      if (Atomics.load(i32, w + Slot.STATE) !== SlotState.ACTIVE) continue;
      if (i32[w + Slot.POLICY] === PolicyCode.drop) continue;
      const behind = (position - Atomics.load(i32, w + Slot.CURSOR)) | 0;
      if (behind > lag) lag = behind;
    }
    return lag;
  }

  /**
   * Evicts every `evict` reader that holds back a write ending at `end` and
   * has not moved for longer than its budget. Returns how many it evicted.
   */
  evictStalled(end: number, now: number): number {
    const { i32, capacity } = this.ring;
    const slots = Atomics.load(i32, Header.SLOT_HIGH_WATER);
    let evicted = 0;
    for (let s = 0; s < slots; s++) {
      const w = slotWord(s);
      if (Atomics.load(i32, w + Slot.STATE) !== SlotState.ACTIVE) continue;
      if (i32[w + Slot.POLICY] !== PolicyCode.evict) continue;
      const cursor = Atomics.load(i32, w + Slot.CURSOR);
      if (((end - cursor) | 0) <= capacity) continue; // not in the way
      if (this.stalledCursor[s] !== cursor || this.stalledSince[s] === 0) {
        this.stalledCursor[s] = cursor;
        this.stalledSince[s] = now;
        continue;
      }
      if (now - this.stalledSince[s] < i32[w + Slot.BUDGET_MS]) continue;
      if (Atomics.compareExchange(i32, w + Slot.STATE, SlotState.ACTIVE, SlotState.EVICTED) === SlotState.ACTIVE) {
        Atomics.add(i32, Header.EVICTIONS, 1);
        this.stalledSince[s] = 0;
        evicted++;
      }
    }
    return evicted;
  }

  /** Time until the earliest stalled `evict` reader's budget runs out (Infinity if none). */
  nextEvictionIn(now: number): number {
    const { i32 } = this.ring;
    const slots = Atomics.load(i32, Header.SLOT_HIGH_WATER);
    let soonest = Infinity;
    for (let s = 0; s < slots; s++) {
      if (this.stalledSince[s] === 0) continue;
      const w = slotWord(s);
      if (Atomics.load(i32, w + Slot.STATE) !== SlotState.ACTIVE) continue;
      soonest = Math.min(soonest, Math.max(0, this.stalledSince[s] + i32[w + Slot.BUDGET_MS] - now));
    }
    return soonest;
  }
}
