/**
 * What the kernel lets a POSIX message queue be, and what to tell the user
 * when it is less than they asked for.
 *
 *   readQueueLimits(procRoot = '/proc'): QueueLimits
 *   hasCapSysResource(procRoot = '/proc'): boolean
 *   queueBytes(depth, messageSize): number        what one queue costs against RLIMIT_MSGQUEUE
 *   planQueue(requested, limits, privileged = hasCapSysResource()): QueuePlan
 *   queueNameProblem(name): string | null        why a name is not a queue name
 *
 * The rules, from ipc/mqueue.c and measured on Linux 6.x:
 *
 * - Without CAP_SYS_RESOURCE, mq_open(O_CREAT) fails with EINVAL when depth >
 *   fs.mqueue.msg_max or message size > fs.mqueue.msgsize_max. With it, the
 *   ceilings are the kernel's hard ones (65536 messages, 16 MiB). Being uid 0
 *   is not enough: as root in a container without CAP_SYS_RESOURCE, depth 11
 *   against msg_max 10 fails with EINVAL, so the rule follows the capability.
 * - Everyone, privileged or not, is charged against RLIMIT_MSGQUEUE
 *   (`ulimit -q`), summed over all of the user's queues; over it, mq_open
 *   fails with EMFILE. The charge is
 *       depth × (messageSize + 48) + min(depth, 32768) × 48
 *   (a 48-byte msg_msg header per message and a 48-byte priority-tree node
 *   per message, up to the 32768 priorities): about depth × (messageSize + 96).
 *   Measured: with `ulimit -q 4096`, depth 1 fits 4000-byte messages and not
 *   4001; depth 10 fits 313 and not 314.
 */
import { readFileSync } from 'node:fs';

export interface QueueLimits {
  /** fs.mqueue.msg_max: deepest queue an unprivileged process may create. */
  msgMax: number;
  /** fs.mqueue.msgsize_max: largest message size an unprivileged process may set. */
  msgSizeMax: number;
  /** fs.mqueue.queues_max: queues system-wide (not enforced with CAP_SYS_RESOURCE). */
  queuesMax: number;
  /** Soft RLIMIT_MSGQUEUE in bytes; null when unlimited or unknown. */
  rlimitBytes: number | null;
}

export interface QueuePlan {
  /** Depth to create the queue with; 0 when not even one message fits. */
  depth: number;
  messageSize: number;
  capped: { depth: boolean; messageSize: boolean };
  /** What this queue costs against RLIMIT_MSGQUEUE at the planned depth and size. */
  bytes: number;
  /** One line per limit that got in the way, each with the command that lifts it. */
  advice: string[];
}

/** The kernel's own ceilings (HARD_MSGMAX, HARD_MSGSIZEMAX) for CAP_SYS_RESOURCE. */
export const HARD_MSGMAX = 65536;
export const HARD_MSGSIZEMAX = 16 * 1024 * 1024;
/** sizeof(struct msg_msg) and sizeof(struct posix_msg_tree_node) on 64-bit Linux. */
const MSG_HEADER_BYTES = 48;
const PRIORITY_NODE_BYTES = 48;
const MQ_PRIO_MAX = 32768;
const CAP_SYS_RESOURCE = 24n;
const QUEUE_NAME_MAX = 255;

/** Why `name` is not a POSIX message queue name (mq_overview(7)), or null when it is one. */
export function queueNameProblem(name: string): string | null {
  if (!name.startsWith('/')) return 'must start with "/"';
  if (name.length === 1) return 'needs a name after "/"';
  if (name.indexOf('/', 1) !== -1) return 'must not contain "/" after the first character';
  if (name.includes('\0')) return 'must not contain NUL';
  if (Buffer.byteLength(name) - 1 > QUEUE_NAME_MAX) return `must be at most ${QUEUE_NAME_MAX} bytes after "/"`;
  return null;
}

function readNumber(file: string): number {
  return Number.parseInt(readFileSync(file, 'utf8').trim(), 10);
}

/** The soft "Max msgqueue size" from a /proc/<pid>/limits text; null when unlimited or absent. */
export function parseMsgqueueRlimit(limitsText: string): number | null {
  const match = /^Max msgqueue size\s+(\S+)/m.exec(limitsText);
  return match && match[1] !== 'unlimited' ? Number.parseInt(match[1], 10) : null;
}

export function readQueueLimits(procRoot = '/proc'): QueueLimits {
  const mqueue = `${procRoot}/sys/fs/mqueue`;
  return {
    msgMax: readNumber(`${mqueue}/msg_max`),
    msgSizeMax: readNumber(`${mqueue}/msgsize_max`),
    queuesMax: readNumber(`${mqueue}/queues_max`),
    rlimitBytes: parseMsgqueueRlimit(readFileSync(`${procRoot}/self/limits`, 'utf8')),
  };
}

/** True when this process's effective capabilities include CAP_SYS_RESOURCE. */
export function hasCapSysResource(procRoot = '/proc'): boolean {
  const match = /^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync(`${procRoot}/self/status`, 'utf8'));
  return match !== null && ((BigInt('0x' + match[1]) >> CAP_SYS_RESOURCE) & 1n) === 1n;
}

export function queueBytes(depth: number, messageSize: number): number {
  return depth * (messageSize + MSG_HEADER_BYTES) + Math.min(depth, MQ_PRIO_MAX) * PRIORITY_NODE_BYTES;
}

/** The deepest queue of `messageSize` messages that fits in `budget` bytes. */
function deepestWithin(budget: number, messageSize: number): number {
  const shallow = Math.floor(budget / (messageSize + MSG_HEADER_BYTES + PRIORITY_NODE_BYTES));
  if (shallow <= MQ_PRIO_MAX) return shallow;
  return Math.floor((budget - MQ_PRIO_MAX * PRIORITY_NODE_BYTES) / (messageSize + MSG_HEADER_BYTES));
}

/**
 * The queue the kernel will let us create, closest to what was asked.
 * `privileged` means CAP_SYS_RESOURCE (not uid 0: see the top of the file).
 * RLIMIT_MSGQUEUE is the user's total; other queues of the same user (mq
 * sinks, other daemons) are not counted here, so the advice says so.
 */
export function planQueue(
  requested: { depth: number; messageSize: number },
  limits: QueueLimits,
  privileged: boolean = hasCapSysResource(),
): QueuePlan {
  const advice: string[] = [];
  const maxDepth = privileged ? HARD_MSGMAX : limits.msgMax;
  const maxSize = privileged ? HARD_MSGSIZEMAX : limits.msgSizeMax;

  const messageSize = Math.min(requested.messageSize, maxSize);
  if (messageSize < requested.messageSize) {
    advice.push(
      privileged
        ? `message size ${requested.messageSize} exceeds the kernel's hard ceiling of ${HARD_MSGSIZEMAX} bytes`
        : `message size capped at ${messageSize} by fs.mqueue.msgsize_max; raise it with: sysctl fs.mqueue.msgsize_max=${requested.messageSize}`,
    );
  }

  let depth = Math.min(requested.depth, maxDepth);
  if (depth < requested.depth) {
    advice.push(
      privileged
        ? `queue depth ${requested.depth} exceeds the kernel's hard ceiling of ${HARD_MSGMAX}`
        : `queue depth capped at ${depth} by fs.mqueue.msg_max; raise it with: sysctl fs.mqueue.msg_max=${requested.depth} ` +
            `(persist it in /etc/sysctl.d/), or run with CAP_SYS_RESOURCE`,
    );
  }

  if (limits.rlimitBytes !== null && queueBytes(depth, messageSize) > limits.rlimitBytes) {
    const wanted = queueBytes(depth, messageSize);
    depth = Math.min(depth, deepestWithin(limits.rlimitBytes, messageSize));
    advice.push(
      `queue depth ${depth === 0 ? 'cannot be even 1' : `capped at ${depth}`} by RLIMIT_MSGQUEUE (${limits.rlimitBytes} bytes): ` +
        `the kernel charges depth × (messageSize + 96) bytes per queue, summed over all of the user's queues, ` +
        `so this queue needs ${wanted}; raise it with: ulimit -q ${wanted} ` +
        `(in the shell that starts msgmux; LimitMSGQUEUE=${wanted} under systemd; above the hard limit this needs root)`,
    );
  }

  return {
    depth,
    messageSize,
    capped: { depth: depth < requested.depth, messageSize: messageSize < requested.messageSize },
    bytes: queueBytes(depth, messageSize),
    advice,
  };
}
