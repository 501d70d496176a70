/**
 * The bus's fixed address: the POSIX queue publishers write to. Created with
 * the configured depth and message size, or as close as the kernel allows;
 * the effective shape is logged, with the command that lifts each limit that
 * got in the way. An existing queue is used as it is, messages and all.
 */
import { createHash } from 'node:crypto';
import type { DaemonConfig } from '../config';
import { ErrorCode, hasCode, MsgmuxError } from '../errors';
import type { Logger } from '../log';
import { DgramSocket, MessageQueue } from '../native';
import { openQueueExplained } from '../queue-errors';
import { queueModeProblem } from '../trust/queue-mode';
import { planQueue, queueBytes, readQueueLimits } from '../queue-limits';
import { maxRecordFor } from '../ring/layout';
import { ENTRY_LENGTH_BYTES, FRAME_HEADER_BYTES } from '../wire/frame';
import { packedQueueName } from '../wire/packed';

export interface BusQueue {
  readonly name: string;
  /** The queue of packed messages beside it (src/wire/packed.ts), or null when packing is off. */
  readonly packedName: string | null;
  readonly depth: number;
  readonly messageSize: number;
  /** Messages in the queue now, not yet ingested. */
  waiting(): number;
  /** Messages left in the queue when it was closed: they wait for the next start. */
  readonly waitingAtClose: number;
  close(): void;
}

/**
 * One daemon per queue: two would each take a share of the messages, and
 * every sink would silently miss some. The lock is an abstract socket name:
 * binding it is exclusive, and the kernel frees it when the process dies,
 * however it dies, so a crash never leaves a stale lock behind.
 */
function lockQueue(queue: string): DgramSocket {
  // An abstract name holds 107 bytes and a queue name up to 255: long names are hashed.
  const id = queue.length <= 80 ? queue : `/#${createHash('sha256').update(queue).digest('hex').slice(0, 40)}`;
  const lock = new DgramSocket();
  try {
    lock.bind(`@msgmux/queue-lock${id}`);
    return lock;
  } catch (err) {
    lock.close();
    if (!hasCode(err, 'EADDRINUSE')) throw err;
    throw new MsgmuxError(ErrorCode.ALREADY_RUNNING, `another msgmux daemon is already ingesting queue ${queue}`);
  }
}

export function openBusQueue(config: DaemonConfig, log: Logger): BusQueue {
  const lock = lockQueue(config.queue);
  try {
    return openLockedQueue(config, log, lock);
  } catch (err) {
    lock.close();
    throw err;
  }
}

function openLockedQueue(config: DaemonConfig, log: Logger, lock: DgramSocket): BusQueue {
  const plan = planQueue({ depth: config.queueDepth, messageSize: config.maxMessage }, readQueueLimits());
  for (const advice of plan.advice) log.warn({ queue: config.queue }, advice);
  if (plan.depth === 0) {
    throw new MsgmuxError(ErrorCode.QUEUE_LIMIT, `queue ${config.queue} cannot hold even one message: ${plan.advice.join('; ')}`);
  }
  const queue = openQueueExplained(config.queue, {
    create: true,
    depth: plan.depth,
    messageSize: plan.messageSize,
    mode: config.queueMode,
    read: true,
    write: false,
  });
  const attributes = queue.attributes();
  const modeProblem = queueModeProblem(config.queue, queue.stat(), config.queueMode, process.getuid!());
  if (modeProblem) log.warn({ queue: config.queue }, modeProblem);
  if (attributes.depth !== plan.depth || attributes.messageSize !== plan.messageSize) {
    log.warn(
      { queue: config.queue, depth: attributes.depth, messageSize: attributes.messageSize },
      'the queue already existed with another shape; using it as it is (remove it with no daemon running to change it)',
    );
  }
  if (attributes.messageSize > maxRecordFor(config.ringSize)) {
    queue.close();
    throw new MsgmuxError(
      ErrorCode.CONFIG,
      `queue ${config.queue} carries messages up to ${attributes.messageSize} bytes, more than a quarter of the ring (ringSize ${config.ringSize}); raise ringSize`,
    );
  }
  const packedName = preparePackedQueue(config, log, attributes);
  log.info(
    { queue: config.queue, depth: attributes.depth, messageSize: attributes.messageSize, waiting: attributes.current, packedQueue: packedName },
    `queue ready: depth ${attributes.depth}${attributes.depth < config.queueDepth ? ` (asked for ${config.queueDepth})` : ''}`,
  );
  let waitingAtClose = 0;
  return {
    name: config.queue,
    packedName,
    depth: attributes.depth,
    messageSize: attributes.messageSize,
    waiting: () => queue.attributes().current,
    get waitingAtClose() {
      return waitingAtClose;
    },
    close() {
      if (queue.fd >= 0) waitingAtClose = queue.attributes().current;
      queue.close();
      lock.close();
    },
  };
}

/**
 * The packed queue's frames are larger than the bus queue's messages: a frame
 * must hold at least one of the largest messages (with the frame's 8 bytes of
 * framing), and small messages should travel many to a frame. 8 KiB is the
 * largest size any process may give a queue (fs.mqueue.msgsize_max's default).
 */
const PACKED_FRAME_BYTES = 8192;
/**
 * A frame carries many messages, so the packed queue needs fewer slots than
 * the bus queue: about the bus queue's bytes (it is charged to the same
 * RLIMIT_MSGQUEUE), but never fewer than this many frames, so that a
 * publisher can be a few frames ahead of ingest.
 */
const PACKED_MIN_DEPTH = 4;

/**
 * Creates the packed queue beside the bus queue (src/wire/packed.ts), with
 * the same mode (whoever may publish may publish packed), frames of
 * PACKED_FRAME_BYTES or more, and about the bus queue's bytes, within what
 * RLIMIT_MSGQUEUE leaves after the bus queue. An existing one is used as it is: a publisher may hold it open,
 * and would go on sending into a removed queue. With packing off it removes
 * one a previous daemon left, since publishers pack whenever it exists.
 * Returns its name, or null when packing is off.
 */
function preparePackedQueue(config: DaemonConfig, log: Logger, bus: { depth: number; messageSize: number }): string | null {
  const name = packedQueueName(config.queue);
  if (!config.packing) {
    try {
      MessageQueue.unlink(name);
      log.warn({ queue: name }, 'packing is off: removed the packed queue a previous daemon left');
    } catch {
      // none there: the usual case
    }
    return null;
  }
  const limits = readQueueLimits();
  const left = limits.rlimitBytes === null ? null : Math.max(0, limits.rlimitBytes - queueBytes(bus.depth, bus.messageSize));
  const messageSize = Math.max(bus.messageSize + FRAME_HEADER_BYTES + ENTRY_LENGTH_BYTES, PACKED_FRAME_BYTES);
  const depth = Math.min(bus.depth, Math.max(PACKED_MIN_DEPTH, Math.ceil(queueBytes(bus.depth, bus.messageSize) / queueBytes(1, messageSize))));
  const plan = planQueue({ depth, messageSize }, { ...limits, rlimitBytes: left });
  for (const advice of plan.advice) log.warn({ queue: name }, `packed queue: ${advice}`);
  if (plan.depth === 0) {
    log.warn({ queue: name }, 'packing is off: the packed queue does not fit beside the bus queue (see the line above); publishers send one message per mq_send');
    return null;
  }
  const packed = openQueueExplained(name, {
    create: true, depth: plan.depth, messageSize: plan.messageSize, mode: config.queueMode, read: true, write: false,
  });
  try {
    const modeProblem = queueModeProblem(name, packed.stat(), config.queueMode, process.getuid!());
    if (modeProblem) log.warn({ queue: name }, modeProblem);
    const { depth, messageSize, current } = packed.attributes();
    if (messageSize < plan.messageSize) {
      log.warn(
        { queue: name, depth, messageSize, waiting: current },
        `the packed queue already existed with frames of ${messageSize} bytes (this daemon makes ${plan.messageSize}): ` +
          'frames carry fewer messages, and messages too large for one are sent unpacked; ' +
          'remove it while no daemon and no publisher runs to get the new shape',
      );
    }
  } finally {
    packed.close();
  }
  return name;
}

/** Removes a daemon's queues: the bus queue and its packed queue, each if it is there. For tests, benches and tools. */
export function unlinkBusQueues(queue: string): void {
  for (const name of [queue, packedQueueName(queue)]) {
    try {
      MessageQueue.unlink(name);
    } catch {
      // never created, or already gone
    }
  }
}
