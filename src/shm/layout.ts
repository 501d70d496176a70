/**
 * Where a ring in a shared-memory file puts things: the ring's own layout
 * (header | reader slots | data, src/ring/layout.ts), with the slots for
 * readers in other processes each at the start of its own page, so that such
 * a reader maps its page read-write and everything else read-only.
 *
 *   page 0..   header, thread slots (threads of the writer's process), one guard per process slot
 *   ...        reserved slots up to the next page
 *   P pages    process slot k at the start of page k (the rest of the page reserved)
 *   data       page-aligned, `capacity` bytes
 */
import { ErrorCode, MsgmuxError } from '../errors';
import { HEADER_BYTES, Header, MAGIC, SLOT_BYTES, VERSION, dataOffsetFor } from '../ring/layout';

export interface ShmLayout {
  maxReaders: number;
  /** Reader slot of process slot 0's guard (src/ring/layout.ts GUARD_STATE), on the owner's pages. */
  guardFirst: number;
  first: number;
  stride: number;
  count: number;
  dataOffset: number;
  capacity: number;
  /** Bytes of the file and of every mapping of it: a whole number of pages. */
  size: number;
}

const roundUp = (n: number, page: number): number => Math.ceil(n / page) * page;

export function shmLayout(threadReaders: number, processReaders: number, capacity: number, page: number): ShmLayout {
  const stride = page / SLOT_BYTES;
  const firstByte = roundUp(HEADER_BYTES + (threadReaders + processReaders) * SLOT_BYTES, page);
  const first = (firstByte - HEADER_BYTES) / SLOT_BYTES;
  const maxReaders = first + processReaders * stride;
  const dataOffset = dataOffsetFor(maxReaders);
  return { maxReaders, guardFirst: threadReaders, first, stride, count: processReaders, dataOffset, capacity, size: roundUp(dataOffset + capacity, page) };
}

/** The byte where reader slot `readerSlot` starts (a page boundary for process slots). */
export const slotByteOf = (readerSlot: number): number => HEADER_BYTES + readerSlot * SLOT_BYTES;

/**
 * Reads the layout from a ring header (the file's first page) and checks
 * everything a reader relies on before it trusts the file: magic, version,
 * a power-of-two capacity, process slots on page boundaries, and a file
 * large enough for all of it.
 */
export function readShmLayout(header: Int32Array, fileSize: number, page: number, name: string): ShmLayout {
  const bad = (why: string): never => {
    throw new MsgmuxError(ErrorCode.SHM_INVALID, `shared-memory ring ${name}: ${why}`);
  };
  if (Atomics.load(header, Header.MAGIC) !== MAGIC) bad('not a msgmux ring (bad magic)');
  if (header[Header.VERSION] !== VERSION) bad(`ring layout version ${header[Header.VERSION]}, this msgmux reads version ${VERSION}`);
  const capacity = header[Header.CAPACITY];
  const count = header[Header.PROCESS_SLOT_COUNT];
  const first = header[Header.PROCESS_SLOT_FIRST];
  const stride = header[Header.PROCESS_SLOT_STRIDE];
  const maxReaders = header[Header.MAX_READERS];
  const guardFirst = header[Header.PROCESS_GUARD_FIRST];
  if (capacity < 1024 || (capacity & (capacity - 1)) !== 0) bad(`capacity ${capacity} is not a power of two`);
  if (count < 1) bad('the ring has no process slots');
  if (stride * SLOT_BYTES !== page || slotByteOf(first) % page !== 0) bad('process slots are not page-aligned');
  if (guardFirst < 0 || guardFirst + count > first) bad('process slot guards are not below the process slots');
  if (maxReaders !== first + count * stride || header[Header.DATA_OFFSET] !== dataOffsetFor(maxReaders)) bad('inconsistent slot layout');
  const layout: ShmLayout = { maxReaders, guardFirst, first, stride, count, dataOffset: dataOffsetFor(maxReaders), capacity, size: 0 };
  layout.size = roundUp(layout.dataOffset + capacity, page);
  if (fileSize < layout.size) bad(`file is ${fileSize} bytes, the ring needs ${layout.size}`);
  return layout;
}

/** POSIX shared-memory names: "/" then up to 200 characters, no other "/". */
export function checkShmName(name: unknown): string {
  if (typeof name !== 'string' || !/^\/[^/\0]{1,200}$/.test(name)) {
    throw new MsgmuxError(ErrorCode.SHM_NAME, `shared-memory ring name must be "/" followed by 1 to 200 characters without "/" (got ${JSON.stringify(name)})`);
  }
  return name;
}
