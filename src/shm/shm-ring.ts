/**
 * A ring in a named shared-memory object (/dev/shm), owned by its writer's
 * process (the daemon, or a program of its own). Other processes read it
 * through a slot the owner grants them (`grant`), each with its own
 * one-page cursor file, owned by that reader's uid and mode 0600.
 *
 * Access control is the files' permissions: the ring file is created with
 * the configured owner, group and mode (readers need read access only); a
 * reader maps it read-only and its cursor file read-write, so it can write
 * nothing but its own slot. The owner maps each granted cursor file over
 * that slot's page of its own mapping, so its writer gates on the reader's
 * cursor like on any thread's; taking the grant back maps the ring's own
 * page (a reserved slot) there again: the reader stops gating at once.
 */
import './futex-waits';
import { ErrorCode, MsgmuxError, hasCode } from '../errors';
import { ReadableWatcher } from '../native';
import { Ring, type ReaderOptions } from '../ring';
import { GUARD_STATE, MAX_CAPACITY, MAX_READERS_LIMIT, MIN_CAPACITY, SLOT_WORDS, Slot, SlotState, slotBase } from '../ring/layout';
import { guardBase } from '../ring/reader-slots';
import { OpenHow, shmBinding } from './binding';
import { checkShmName, shmLayout, slotByteOf, type ShmLayout } from './layout';

export interface ShmRingOptions {
  /** Shared-memory name, "/something" (the file is /dev/shm/something). */
  name: string;
  /** Data bytes, a power of two (as Ring.create). */
  capacity: number;
  /** Slots for reader threads of this process (default 64). */
  maxReaders?: number;
  /** Slots for reader processes (default 16). */
  processReaders?: number;
  /** The ring file's mode (default 0o640: the owner and its group may read). */
  mode?: number;
  uid?: number;
  gid?: number;
}

/** What a reader process needs to open its slot (see openShmReader). */
export interface ShmGrant {
  ring: string;
  readerSlot: number;
  slotFile: string;
}

export interface GrantRequest extends Omit<ReaderOptions, 'maxBatch'> {
  pid: number;
  uid: number;
  gid: number;
  /** Take the grant back when the process exits (pidfd; default true). */
  watch?: boolean;
}

export type ReleaseReason = 'exited' | 'closed' | 'evicted' | 'released';

interface Granted {
  grant: ShmGrant;
  pid: number;
  slotFd: number;
  pidfd: number;
  /** Readable once the reader's process has exited (a pidfd). */
  watch: ReadableWatcher | null;
}

const binding = shmBinding();

export class ShmRing {
  readonly ring: Ring;
  /** Called after a grant was taken back, with why. */
  onRelease: ((grant: ShmGrant, pid: number, reason: ReleaseReason) => void) | null = null;
  private readonly granted = new Map<number, Granted>();
  private closed = false;
  /** The ring's words as this process maps them (its readers' pages included). */
  readonly i32: Int32Array;

  private constructor(
    readonly name: string,
    private readonly fd: number,
    private readonly layout: ShmLayout,
    private readonly buffer: SharedArrayBuffer,
  ) {
    this.ring = Ring.format(buffer, layout.capacity, layout.maxReaders, layout);
    this.i32 = new Int32Array(buffer);
  }

  /** Creates the file (it must not exist) and a new ring in it. */
  static create(options: ShmRingOptions): ShmRing {
    const name = checkShmName(options.name);
    const { capacity, maxReaders = 64, processReaders = 16 } = options;
    if (!Number.isInteger(capacity) || capacity < MIN_CAPACITY || capacity > MAX_CAPACITY || (capacity & (capacity - 1)) !== 0) {
      throw new MsgmuxError(ErrorCode.RING_CAPACITY, `ring capacity must be a power of two from ${MIN_CAPACITY} to ${MAX_CAPACITY} bytes (got ${capacity})`);
    }
    if (!Number.isInteger(maxReaders) || maxReaders < 1 || maxReaders > MAX_READERS_LIMIT) {
      throw new MsgmuxError(ErrorCode.RING_READERS, `maxReaders must be an integer from 1 to ${MAX_READERS_LIMIT} (got ${maxReaders})`);
    }
    if (!Number.isInteger(processReaders) || processReaders < 1 || processReaders > 1024) {
      throw new MsgmuxError(ErrorCode.RING_READERS, `processReaders must be an integer from 1 to 1024 (got ${processReaders})`);
    }
    const layout = shmLayout(maxReaders, processReaders, capacity, binding.PAGE_SIZE);
    const mode = options.mode ?? 0o640;
    const fd = binding.shmOpen(name, OpenHow.CREATE, 0o600);
    try {
      if (options.uid !== undefined || options.gid !== undefined) binding.fchown(fd, options.uid ?? -1, options.gid ?? -1);
      binding.fchmod(fd, mode); // after fchown, which may clear set-id bits; not subject to the umask
      binding.ftruncate(fd, layout.size);
      const buffer = binding.map(layout.size, [[fd, 0, 0, layout.size, true]]);
      return new ShmRing(name, fd, layout, buffer);
    } catch (err) {
      binding.close(fd);
      binding.shmUnlink(name);
      throw err;
    }
  }

  /** Process slots in use. */
  get grants(): ShmGrant[] {
    return [...this.granted.values()].map((g) => g.grant);
  }

  /**
   * Gives process `pid` (running as uid/gid) a reader slot: creates its
   * cursor file, maps it over the slot's page and joins it as `ring.reader()`
   * would. The caller decides who may ask (the daemon's admission check).
   */
  grant(request: GrantRequest): ShmGrant {
    this.checkOpen();
    const k = [...Array(this.layout.count).keys()].find((i) => !this.granted.has(this.layout.first + i * this.layout.stride));
    if (k === undefined) throw new MsgmuxError(ErrorCode.SHM_SLOTS, `all ${this.layout.count} process slots of ${this.name} are taken`);
    const readerSlot = this.layout.first + k * this.layout.stride;
    const slotFile = `${this.name}.${readerSlot}`;
    const page = binding.PAGE_SIZE;
    const slotFd = openExclusive(slotFile);
    let pidfd = -1;
    try {
      if (request.uid !== process.getuid?.() || request.gid !== process.getgid?.()) binding.fchown(slotFd, request.uid, request.gid);
      binding.ftruncate(slotFd, page);
      // Every slot on the page reserved before the page goes in: no thread reader may take one.
      const fresh = new Int32Array(binding.map(page, [[slotFd, 0, 0, page, true]]));
      for (let s = 0; s < this.layout.stride; s++) {
        fresh[s * SLOT_WORDS + Slot.OWNER] = -1;
        fresh[s * SLOT_WORDS + Slot.STATE] = SlotState.RESERVED;
      }
      if (request.watch !== false) pidfd = binding.pidfdOpen(request.pid);
      binding.remap(this.buffer, slotByteOf(readerSlot), slotFd, 0, page, true);
      if (!this.ring.activateProcessSlot(readerSlot, request.pid, request)) {
        throw new MsgmuxError(ErrorCode.INTERNAL, `process slot ${readerSlot} of ${this.name} was not reserved`);
      }
    } catch (err) {
      binding.remap(this.buffer, slotByteOf(readerSlot), this.fd, slotByteOf(readerSlot), page, true);
      if (pidfd >= 0) binding.close(pidfd);
      binding.close(slotFd);
      binding.shmUnlink(slotFile);
      throw err;
    }
    const grant: ShmGrant = { ring: this.name, readerSlot, slotFile };
    const entry: Granted = { grant, pid: request.pid, slotFd, pidfd, watch: null };
    if (pidfd >= 0) entry.watch = new ReadableWatcher(pidfd, () => this.takeBack(readerSlot, 'exited'));
    this.granted.set(readerSlot, entry);
    return grant;
  }

  /** Takes a grant back: the reader stops gating at once and its cursor file is removed. */
  release(readerSlot: number): boolean {
    return this.takeBack(readerSlot, 'released');
  }

  /**
   * Takes back the grants whose reader left (closed its reader) or was
   * evicted: an evicted reader's page stops counting even if it rewrites its
   * state. Call it now and then (the daemon does, on a timer).
   */
  sweep(): number {
    let swept = 0;
    for (const readerSlot of [...this.granted.keys()]) {
      // The guard is the writer's word (an eviction is recorded there); the slot's own state, the reader's.
      const held = Atomics.load(this.i32, guardBase(this, readerSlot) + GUARD_STATE);
      const own = Atomics.load(this.i32, slotBase(readerSlot) + Slot.STATE);
      if (held === SlotState.ACTIVE && own === SlotState.ACTIVE) continue;
      if (this.takeBack(readerSlot, held === SlotState.EVICTED ? 'evicted' : 'closed')) swept++;
    }
    return swept;
  }

  /** Takes every grant back, unmaps nothing the ring's users still hold, and removes the ring file. */
  close(): void {
    if (this.closed) return;
    for (const readerSlot of [...this.granted.keys()]) this.takeBack(readerSlot, 'released');
    this.closed = true;
    binding.close(this.fd);
    try {
      binding.shmUnlink(this.name);
    } catch (err) {
      if (!hasCode(err, 'ENOENT')) throw err;
    }
  }

  private takeBack(readerSlot: number, reason: ReleaseReason): boolean {
    const entry = this.granted.get(readerSlot);
    if (entry === undefined) return false;
    this.granted.delete(readerSlot);
    const at = slotByteOf(readerSlot);
    // The guard first: the writer stops counting the slot, and a reader still running learns
    // it was let go (its reads throw READER_RECLAIMED, or READER_EVICTED after an eviction).
    const guard = guardBase(this, readerSlot) + GUARD_STATE;
    Atomics.compareExchange(this.i32, guard, SlotState.ACTIVE, SlotState.FREE);
    binding.remap(this.buffer, at, this.fd, at, binding.PAGE_SIZE, true); // the ring's own page: a reserved slot
    this.ring.signalWriter();
    this.ring.wakeReaders(); // a reader asleep in that slot wakes to find it let go
    entry.watch?.close(); // before its pidfd goes
    if (entry.pidfd >= 0) binding.close(entry.pidfd);
    binding.close(entry.slotFd);
    try {
      binding.shmUnlink(entry.grant.slotFile);
    } catch (err) {
      if (!hasCode(err, 'ENOENT')) throw err;
    }
    this.onRelease?.(entry.grant, entry.pid, reason);
    return true;
  }

  private checkOpen(): void {
    if (this.closed) throw new MsgmuxError(ErrorCode.CLOSED, `shared-memory ring ${this.name} is closed`);
  }
}

/** Creates a cursor file; one left by an owner that crashed is replaced. */
function openExclusive(name: string): number {
  try {
    return binding.shmOpen(name, OpenHow.CREATE, 0o600);
  } catch (err) {
    if (!hasCode(err, 'EEXIST')) throw err;
    binding.shmUnlink(name);
    return binding.shmOpen(name, OpenHow.CREATE, 0o600);
  }
}
