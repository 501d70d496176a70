/**
 * Registers futex(2) as the ring's way to wait across processes
 * (src/ring/process-waits.ts). Imported by everything that may attach a ring
 * in shared memory: the package root, the daemon's threads, src/shm.
 */
import { registerProcessWaits } from '../ring/process-waits';
import { shmBinding } from './binding';

const binding = shmBinding();
const WAKE_ALL = 0x7fffffff;

/**
 * MSGMUX_ASYNC_WAITS=pool makes asynchronous waits take a pool thread even
 * where io_uring could serve them (to compare the two; a kernel or seccomp
 * profile without io_uring falls back to the pool by itself).
 */
if (process.env.MSGMUX_ASYNC_WAITS === 'pool') binding.useThreadPoolForAsyncWaits();

registerProcessWaits({
  wait: (buffer, word, value, timeoutMs) => void binding.futexWait(buffer, word << 2, value, timeoutMs),
  waitAsync: (buffer, word, value, timeoutMs) => binding.futexWaitAsync(buffer, word << 2, value, timeoutMs),
  wake: (buffer, word) => void binding.futexWake(buffer, word << 2, WAKE_ALL),
});
