/**
 * mq_open failures, explained: which limit was hit, what holds it, and the
 * command that raises it. The kernel's own words mislead: a full
 * RLIMIT_MSGQUEUE reads "Too many open files".
 *
 *   explainQueueOpenError(err, request, context?): Error
 *   openQueueExplained(name, options): MessageQueue      MessageQueue.open, failures explained
 *
 * returns a MsgmuxError (ERR_MSGMUX_QUEUE_LIMIT or ERR_MSGMUX_QUEUE_PERMISSION,
 * the errno as `errno`, the original as `cause`) for EMFILE, ENFILE, ENOSPC,
 * EINVAL and EACCES, and `err` itself for anything else (ENOENT: callers know
 * what a missing queue means to them).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { ErrorCode, MsgmuxError } from './errors';
import { MessageQueue, type MessageQueueOpenOptions } from './native';
import { hasCapSysResource, planQueue, queueBytes, readQueueLimits, type QueueLimits } from './queue-limits';

export interface QueueOpenRequest {
  name: string;
  create: boolean;
  depth: number;
  messageSize: number;
  /** What the caller wanted to do with it, for EACCES: "read", "write" or "read and write". */
  access: string;
}

export interface QueueOpenContext {
  limits?: QueueLimits;
  privileged?: boolean;
  uid?: number;
  /** Where the mqueue filesystem is mounted, if it is: it lists every queue with its owner. */
  mqueueDir?: string;
  procRoot?: string;
}

interface Explained {
  code: string;
  message: string;
}

const octal = (mode: number): string => '0' + (mode & 0o777).toString(8).padStart(3, '0');

/** The queues of `uid` on a mounted mqueue filesystem, or null when none is mounted there. */
function queuesOf(uid: number, dir: string): string[] | null {
  try {
    return readdirSync(dir).filter((entry) => statSync(`${dir}/${entry}`).uid === uid).map((entry) => `/${entry}`);
  } catch {
    return null;
  }
}

function softLimit(procRoot: string, label: string): number | null {
  const match = new RegExp(`^${label}\\s+(\\S+)`, 'm').exec(readFileSync(`${procRoot}/self/limits`, 'utf8'));
  return match && match[1] !== 'unlimited' ? Number.parseInt(match[1], 10) : null;
}

function openFds(procRoot: string): number {
  try {
    return readdirSync(`${procRoot}/self/fd`).length;
  } catch {
    return 0;
  }
}

function rlimitMsgqueue(request: QueueOpenRequest, context: Required<QueueOpenContext>): string {
  const needed = queueBytes(request.depth, request.messageSize);
  const limit = context.limits.rlimitBytes;
  const own = queuesOf(context.uid, context.mqueueDir);
  const held =
    own === null
      ? ` (to list them, mount the mqueue filesystem: mkdir -p /dev/mqueue && mount -t mqueue none /dev/mqueue)`
      : `; ${own.length} queue${own.length === 1 ? '' : 's'} of uid ${context.uid} exist here${own.length > 0 ? `: ${own.slice(0, 10).join(', ')}${own.length > 10 ? ', …' : ''}` : ''}`;
  const alone = limit !== null && needed > limit;
  return (
    `uid ${context.uid} ${alone ? 'cannot fit this queue in' : 'has used up'} its POSIX queue budget RLIMIT_MSGQUEUE (${limit === null ? 'unknown' : `${limit} bytes`}), ` +
    `which every queue the user created counts against, in every IPC namespace, until it is removed${held}. ` +
    `This queue needs ${needed} bytes (depth ${request.depth} × (message size ${request.messageSize} + 96)). ` +
    `Remove queues nobody uses (mq_unlink; rm /dev/mqueue/NAME where it is mounted), lower queueDepth or maxMessage, ` +
    `or raise the limit: ulimit -q ${limit === null ? needed : limit + needed} in the shell that starts it (LimitMSGQUEUE= under systemd; above the hard limit this needs root)`
  );
}

function explain(err: NodeJS.ErrnoException, request: QueueOpenRequest, context: Required<QueueOpenContext>): Explained | null {
  const { limits, privileged } = context;
  switch (err.code) {
    case 'EMFILE': {
      const maxFds = softLimit(context.procRoot, 'Max open files');
      // Opening a queue that exists charges nothing to RLIMIT_MSGQUEUE: then only the descriptors can be out.
      if (maxFds !== null && (!request.create || openFds(context.procRoot) >= maxFds - 1)) {
        return {
          code: ErrorCode.QUEUE_LIMIT,
          message: `this process has ${maxFds} descriptors open, its RLIMIT_NOFILE; raise it with: ulimit -n ${maxFds * 2}`,
        };
      }
      return { code: ErrorCode.QUEUE_LIMIT, message: rlimitMsgqueue(request, context) };
    }
    case 'ENFILE':
      return { code: ErrorCode.QUEUE_LIMIT, message: 'the system-wide file limit is reached; raise it with: sysctl fs.file-max=N' };
    case 'ENOSPC':
      return {
        code: ErrorCode.QUEUE_LIMIT,
        message:
          `fs.mqueue.queues_max (${limits.queuesMax}) queues already exist in this IPC namespace; remove queues nobody uses, ` +
          `or raise it: sysctl fs.mqueue.queues_max=${limits.queuesMax * 2} (or run with CAP_SYS_RESOURCE)`,
      };
    case 'EINVAL': {
      if (!request.create) return null;
      const plan = planQueue({ depth: request.depth, messageSize: request.messageSize }, { ...limits, rlimitBytes: null }, privileged);
      if (plan.advice.length > 0) return { code: ErrorCode.QUEUE_LIMIT, message: plan.advice.join('; ') };
      if (request.depth < 1 || request.messageSize < 1) {
        return { code: ErrorCode.QUEUE_LIMIT, message: `depth (${request.depth}) and message size (${request.messageSize}) must both be at least 1` };
      }
      return null;
    }
    case 'EACCES': {
      let found = '';
      try {
        const stats = statSync(`${context.mqueueDir}${request.name}`);
        found = ` (it belongs to uid ${stats.uid}, gid ${stats.gid}, mode ${octal(stats.mode)})`;
      } catch {
        // not mounted, or not visible: the message says what it can
      }
      return {
        code: ErrorCode.QUEUE_PERMISSION,
        message:
          `the queue exists and its permissions${found} do not let uid ${context.uid} open it to ${request.access}; ` +
          `run as its owner, ask the owner to create it with a wider queueMode (e.g. --queue-mode 0660 and a shared group), ` +
          `or have the owner remove it`,
      };
    }
    default:
      return null;
  }
}

export function explainQueueOpenError(err: unknown, request: QueueOpenRequest, context: QueueOpenContext = {}): Error {
  const errno = err as NodeJS.ErrnoException;
  if (!(err instanceof Error) || typeof errno.code !== 'string') return err as Error;
  const full: Required<QueueOpenContext> = {
    limits: context.limits ?? readQueueLimits(context.procRoot),
    privileged: context.privileged ?? hasCapSysResource(context.procRoot),
    uid: context.uid ?? process.getuid?.() ?? -1,
    mqueueDir: context.mqueueDir ?? '/dev/mqueue',
    procRoot: context.procRoot ?? '/proc',
  };
  const explained = explain(errno, request, full);
  if (explained === null) return err;
  const wrapped = new MsgmuxError(explained.code, `mq_open ${request.name}: ${errno.code}: ${explained.message}`, { cause: err });
  return Object.assign(wrapped, { errno: errno.code });
}

/** MessageQueue.open, with its failures explained as above. */
export function openQueueExplained(name: string, options: MessageQueueOpenOptions): MessageQueue {
  try {
    return MessageQueue.open(name, options);
  } catch (err) {
    const read = options.read ?? true;
    const write = options.write ?? true;
    throw explainQueueOpenError(err, {
      name,
      create: options.create ?? false,
      depth: options.depth ?? 0,
      messageSize: options.messageSize ?? 0,
      access: read && write ? 'read and write' : write ? 'write' : 'read',
    });
  }
}
