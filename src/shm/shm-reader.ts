/**
 * Opens a granted slot of a ring in shared memory, in the reader's process:
 * the ring file mapped read-only, the reader's own cursor file read-write
 * over its slot's page, as one SharedArrayBuffer. The header is checked
 * (src/shm/layout.ts) before anything else in the file is used. The reader
 * is a RingReader like any other; a write anywhere but its own slot faults.
 */
import './futex-waits';
import { ErrorCode, MsgmuxError } from '../errors';
import { Ring, type RingReader } from '../ring';
import { OpenHow, shmBinding } from './binding';
import { checkShmName, readShmLayout, slotByteOf } from './layout';
import type { ShmGrant } from './shm-ring';

export interface OpenedShmReader {
  ring: Ring;
  reader: RingReader;
}

export function openShmReader(grant: ShmGrant, options: { maxBatch?: number } = {}): OpenedShmReader {
  const binding = shmBinding();
  const page = binding.PAGE_SIZE;
  const name = checkShmName(grant.ring);
  checkShmName(grant.slotFile);
  const ringFd = binding.shmOpen(name, OpenHow.READ_ONLY, 0);
  let slotFd = -1;
  try {
    const header = new Int32Array(binding.map(page, [[ringFd, 0, 0, page, false]]));
    const layout = readShmLayout(header, binding.fstat(ringFd).size, page, name);
    const { readerSlot } = grant;
    const k = (readerSlot - layout.first) / layout.stride;
    if (!Number.isInteger(k) || k < 0 || k >= layout.count) {
      throw new MsgmuxError(ErrorCode.SHM_INVALID, `reader slot ${readerSlot} is not a process slot of ${name}`);
    }
    slotFd = binding.shmOpen(grant.slotFile, OpenHow.READ_WRITE, 0);
    if (binding.fstat(slotFd).size !== page) {
      throw new MsgmuxError(ErrorCode.SHM_INVALID, `cursor file ${grant.slotFile} is not one page`);
    }
    const buffer = binding.map(layout.size, [
      [ringFd, 0, 0, layout.size, false],
      [slotFd, 0, slotByteOf(readerSlot), page, true],
    ]);
    const ring = Ring.attach(buffer);
    return { ring, reader: ring.processReader(readerSlot, options.maxBatch) };
  } finally {
    binding.close(ringFd);
    if (slotFd >= 0) binding.close(slotFd);
  }
}
