/**
 * V8 limits for the daemon's threads. Each loop keeps its data in shared or
 * external memory (the ring, socket scratch buffers), so its JS heap stays
 * small; capping the young generation and the stack keeps a thread's RSS at
 * a few MB instead of ~9 MB, which is what lets hundreds of sinks fit.
 */
import type { ResourceLimits } from 'node:worker_threads';

export const THREAD_LIMITS: ResourceLimits = Object.freeze({
  maxYoungGenerationSizeMb: 1,
  maxOldGenerationSizeMb: 24,
  stackSizeMb: 1,
});
