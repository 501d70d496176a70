/**
 * The POSIX queue that msgmux and the C reference broker ingest from: one
 * depth for both, deep enough not to be the bottleneck where the harness may
 * raise fs.mqueue.msg_max (root), and unlinked however the run ends.
 */
import { MessageQueue } from '../../native';
import { onCleanup } from '../cleanup';
import { readMsgMax, withMsgMaxAtLeast } from '../msg-max';

export const QUEUE_DEPTH = 256;

export function unlinkOnCleanup(queue: string): () => void {
  return onCleanup(() => {
    try {
      MessageQueue.unlink(queue);
    } catch {
      // never created, or already gone
    }
  });
}

/** Runs `create` (which creates the queue) with msg_max raised for it when possible; resolves with the depth it could ask for. */
export async function withQueueDepth<T>(create: (depth: number) => Promise<T>): Promise<T> {
  let depth = QUEUE_DEPTH;
  const outcome = await withMsgMaxAtLeast(QUEUE_DEPTH, () => {
    if (readMsgMax() < QUEUE_DEPTH) depth = readMsgMax(); // not root: what the kernel allows
    return create(depth);
  });
  return outcome.value;
}

/** Runs a program with `ulimit -q` raised where allowed: every queue in the system is charged to one per-user budget. */
export const withRaisedQueueLimit = (file: string, args: string[]): { file: string; args: string[] } => ({
  file: '/bin/sh',
  args: ['-c', 'ulimit -q unlimited 2>/dev/null; exec "$0" "$@"', file, ...args],
});
