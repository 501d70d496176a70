/**
 * The bus's fixed address: the POSIX queue publishers write to. Created with
 * the configured depth and message size, or as close as the kernel allows;
 * the effective shape is logged, with the command that lifts each limit that
 * got in the way. An existing queue is used as it is, messages and all.
 */
import type { DaemonConfig } from '../config';
import { MsgmuxError } from '../errors';
import type { Logger } from '../log';
import { MessageQueue } from '../native';
import { planQueue, readQueueLimits } from '../queue-limits';
import { maxRecordFor } from '../ring/layout';

export interface OpenedQueue {
  readonly name: string;
  readonly depth: number;
  readonly messageSize: number;
  /** Messages in the queue now, not yet ingested. */
  waiting(): number;
  /** Messages left in the queue when it was closed: they wait for the next start. */
  readonly waitingAtClose: number;
  close(): void;
}

export function openQueue(config: DaemonConfig, log: Logger): OpenedQueue {
  const plan = planQueue({ depth: config.queueDepth, messageSize: config.maxMessage }, readQueueLimits());
  for (const advice of plan.advice) log.warn({ queue: config.queue }, advice);
  if (plan.depth === 0) {
    throw new MsgmuxError('ERR_MSGMUX_QUEUE_LIMIT', `queue ${config.queue} cannot hold even one message: ${plan.advice.join('; ')}`);
  }
  const queue = MessageQueue.open(config.queue, {
    create: true,
    depth: plan.depth,
    messageSize: plan.messageSize,
    mode: config.queueMode,
    read: true,
    write: false,
  });
  const attributes = queue.attributes();
  if (attributes.depth !== plan.depth || attributes.messageSize !== plan.messageSize) {
    log.warn(
      { queue: config.queue, depth: attributes.depth, messageSize: attributes.messageSize },
      'the queue already existed with another shape; using it as it is (remove it with no daemon running to change it)',
    );
  }
  if (attributes.messageSize > maxRecordFor(config.ringSize)) {
    queue.close();
    throw new MsgmuxError(
      'ERR_MSGMUX_CONFIG',
      `queue ${config.queue} carries messages up to ${attributes.messageSize} bytes, more than a quarter of the ring (ringSize ${config.ringSize}); raise ringSize`,
    );
  }
  log.info(
    { queue: config.queue, depth: attributes.depth, messageSize: attributes.messageSize, waiting: attributes.current },
    `queue ready: depth ${attributes.depth}${attributes.depth < config.queueDepth ? ` (asked for ${config.queueDepth})` : ''}`,
  );
  let waitingAtClose = 0;
  return {
    name: config.queue,
    depth: attributes.depth,
    messageSize: attributes.messageSize,
    waiting: () => queue.attributes().current,
    get waitingAtClose() {
      return waitingAtClose;
    },
    close() {
      if (queue.fd >= 0) waitingAtClose = queue.attributes().current;
      queue.close();
    },
  };
}
