/**
 * The one scan over reader slots. The writer's gating minimum and eviction,
 * the ring's stats and reclaim all walk the same slots the same way: up to
 * the high-water mark, skipping free ones, each state read once.
 */
import { GUARD_STATE, Header, Slot, SlotState, slotBase, type RingViews } from './layout';

/**
 * Calls `visit` for every claimed slot (active, evicted or claiming; not free or reserved), with
 * its reader slot number, its base word, the state read for this visit, and the base word where
 * its policy and budget are read (`control`): the slot's own, or for a process slot its guard's.
 * A process slot's state is its guard's unless both say ACTIVE: its reader can leave, never return.
 */
export function forEachReaderSlot(
  ring: RingViews,
  visit: (readerSlot: number, base: number, state: number, control: number) => void,
): void {
  const { i32 } = ring;
  const high = Atomics.load(i32, Header.SLOT_HIGH_WATER);
  const first = i32[Header.PROCESS_SLOT_FIRST];
  const stride = i32[Header.PROCESS_SLOT_STRIDE];
  for (let readerSlot = 0; readerSlot < high; readerSlot++) {
    const base = slotBase(readerSlot);
    let state = Atomics.load(i32, base + Slot.STATE);
    if (state === SlotState.FREE || state === SlotState.RESERVED) continue;
    const guard = stride > 0 && readerSlot >= first && (readerSlot - first) % stride === 0 ? guardBase(ring, readerSlot) : -1;
    if (guard >= 0) {
      const held = Atomics.load(i32, guard + GUARD_STATE);
      if (held !== SlotState.ACTIVE) state = held;
      if (state === SlotState.FREE || state === SlotState.RESERVED) continue;
    }
    visit(readerSlot, base, state, guard >= 0 ? guard : base);
  }
}

/** The word a slot's state is changed at by the writer (evict): its own, or its guard's. */
export const stateWord = (base: number, control: number): number => (control === base ? base + Slot.STATE : control + GUARD_STATE);

/** The base word of process slot `readerSlot`'s guard; -1 when it is not a process slot. */
export function guardBase(ring: Pick<RingViews, 'i32'>, readerSlot: number): number {
  const { i32 } = ring;
  const first = i32[Header.PROCESS_SLOT_FIRST];
  const stride = i32[Header.PROCESS_SLOT_STRIDE];
  const k = stride > 0 ? (readerSlot - first) / stride : -1;
  if (!Number.isInteger(k) || k < 0 || k >= i32[Header.PROCESS_SLOT_COUNT]) return -1;
  return slotBase(i32[Header.PROCESS_GUARD_FIRST] + k);
}
