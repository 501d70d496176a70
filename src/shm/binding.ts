/**
 * The shared-memory addon (native/shm.cc): one function per syscall. Built
 * with V8's API (a SharedArrayBuffer over an mmap), so it is its own target.
 */
import { bindingPath } from '../native/binding';
import { nativeMissingError } from '../native/errors';

export const enum OpenHow {
  READ_ONLY = 0,
  READ_WRITE = 1,
  CREATE = 2,
}

/** [fd, fileOffset, at, length, writable]: a page-aligned piece of a mapping. */
export type MapPiece = [fd: number, fileOffset: number, at: number, length: number, writable: boolean];

export type AsyncWaitKind = 'io_uring' | 'thread pool';

/** 0 woken, 1 timed out, 2 the word did not hold the value. */
export type FutexResult = 0 | 1 | 2;

export interface ShmBinding {
  shmOpen(name: string, how: OpenHow, mode: number): number;
  shmUnlink(name: string): void;
  close(fd: number): void;
  ftruncate(fd: number, size: number): void;
  fchown(fd: number, uid: number, gid: number): void;
  fchmod(fd: number, mode: number): void;
  fstat(fd: number): { size: number; uid: number; gid: number; mode: number };
  map(total: number, pieces: MapPiece[]): SharedArrayBuffer;
  remap(buffer: SharedArrayBuffer, at: number, fd: number, fileOffset: number, length: number, writable: boolean): void;
  futexWait(buffer: SharedArrayBuffer, byteOffset: number, value: number, timeoutMs: number): FutexResult;
  /** Polled by this thread's event loop through io_uring where the kernel has FUTEX_WAIT (6.7+), else on a pool thread. */
  futexWaitAsync(buffer: SharedArrayBuffer, byteOffset: number, value: number, timeoutMs: number): Promise<FutexResult>;
  /** How this thread's asynchronous waits wait (sets up its io_uring on first call). */
  futexWaitAsyncKind(): AsyncWaitKind;
  /** This thread's asynchronous waits take a pool thread, never io_uring (before its first wait). */
  useThreadPoolForAsyncWaits(): void;
  futexWake(buffer: SharedArrayBuffer, byteOffset: number, count: number): number;
  pidfdOpen(pid: number): number;
  readonly PAGE_SIZE: number;
}

let loaded: ShmBinding | undefined;

export function shmBinding(): ShmBinding {
  if (loaded) return loaded;
  const file = bindingPath('msgmux_shm');
  try {
    loaded = require(file) as ShmBinding;
  } catch (err) {
    throw nativeMissingError(file, err);
  }
  return loaded;
}
