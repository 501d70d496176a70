/**
 * The one scan over reader slots. The writer's gating minimum and eviction,
 * the ring's stats and reclaim all walk the same slots the same way: up to
 * the high-water mark, skipping free ones, each state read once.
 */
import { Header, Slot, SlotState, slotBase, type RingViews } from './layout';

/**
 * Calls `visit` for every claimed slot (active, evicted or claiming; not free or reserved), with
 * its reader slot number, its base word and the state read for this visit.
 */
export function forEachReaderSlot(
  ring: RingViews,
  visit: (readerSlot: number, base: number, state: number) => void,
): void {
  const { i32 } = ring;
  const high = Atomics.load(i32, Header.SLOT_HIGH_WATER);
  for (let readerSlot = 0; readerSlot < high; readerSlot++) {
    const base = slotBase(readerSlot);
    const state = Atomics.load(i32, base + Slot.STATE);
    if (state !== SlotState.FREE && state !== SlotState.RESERVED) visit(readerSlot, base, state);
  }
}
