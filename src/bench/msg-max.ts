/**
 * fs.mqueue.msg_max caps the depth of a queue when it is created (without
 * CAP_SYS_RESOURCE). As root a benchmark may raise it to create a deep queue;
 * it is a system-wide setting, so it is raised only for as long as the
 * creation takes and always written back: after `create`, on an exception,
 * and on SIGINT/SIGTERM. An existing queue keeps its depth afterwards.
 */
import fs from 'node:fs';
import { onCleanup } from './cleanup';

export const MSG_MAX_FILE = '/proc/sys/fs/mqueue/msg_max';

export const readMsgMax = (): number => Number.parseInt(fs.readFileSync(MSG_MAX_FILE, 'utf8'), 10);

export interface MsgMaxOutcome<T> {
  value: T;
  /** msg_max as found, and whether it had to be (and could be) raised for `create`. */
  original: number;
  raised: boolean;
}

/**
 * Runs `create` with msg_max at least `depth`. When it cannot be raised (not
 * root), `create` runs anyway and sees the original cap.
 */
export async function withMsgMaxAtLeast<T>(depth: number, create: () => Promise<T>): Promise<MsgMaxOutcome<T>> {
  const original = readMsgMax();
  if (original >= depth) return { value: await create(), original, raised: false };
  const restore = onCleanup(() => {
    if (readMsgMax() !== original) fs.writeFileSync(MSG_MAX_FILE, String(original));
  });
  try {
    let raised = true;
    try {
      fs.writeFileSync(MSG_MAX_FILE, String(depth));
    } catch {
      raised = false; // not root: the queue gets what msg_max allows
    }
    return { value: await create(), original, raised };
  } finally {
    restore();
  }
}
