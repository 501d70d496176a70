/**
 * `msgmux pub`: publish each argument, or one message per line of stdin.
 *
 *   pub(options: { queue, priority, messages }, input = process.stdin): Promise<number>
 *
 * Resolves to the number of messages published; throws MsgmuxError (the
 * caller prints it). Stdin is read a chunk at a time and the next chunk is
 * not read until the Publisher has taken the current one's lines, which it
 * does only while its local buffer has room: a full queue stops the reading,
 * and memory stays at that buffer plus one chunk and one partial line. It
 * resolves once every line is in the queue (close() flushes).
 * Lines end at "\n" (a "\r" before it is dropped); a last line without "\n"
 * is published too. Empty lines are empty messages.
 */
import { ErrorCode, MsgmuxError } from '../errors';
import { Publisher } from '../publisher';

export interface PubOptions {
  queue: string;
  priority: number;
  messages: string[];
}

export async function pub(options: PubOptions, input: AsyncIterable<Buffer | string> = process.stdin): Promise<number> {
  const publisher = new Publisher({ queue: options.queue });
  try {
    if (options.messages.length > 0) {
      await Promise.all(options.messages.map((m) => publisher.publish(m, options.priority)));
      return options.messages.length;
    }
    return await publishLines(publisher, options.priority, input);
  } finally {
    await publisher.close();
  }
}

async function publishLines(publisher: Publisher, priority: number, input: AsyncIterable<Buffer | string>): Promise<number> {
  let partial = Buffer.alloc(0);
  let count = 0;
  const send = (lines: Buffer[]) => {
    count += lines.length;
    return Promise.all(lines.map((line) => publisher.publish(line, priority)));
  };
  for await (const chunk of input) {
    const data = Buffer.concat([partial, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
    const lines: Buffer[] = [];
    let start = 0;
    for (let end = data.indexOf(10); end !== -1; start = end + 1, end = data.indexOf(10, start)) {
      lines.push(data.subarray(start, end > start && data[end - 1] === 13 ? end - 1 : end));
    }
    partial = data.subarray(start);
    await send(lines);
    // +1: the partial line may still end in the "\r" of a "\r\n"
    if (partial.byteLength > publisher.messageSize + 1) {
      throw new MsgmuxError(
        ErrorCode.MESSAGE_TOO_LARGE,
        `line ${count + 1} is longer than ${publisher.messageSize} bytes, the largest message queue ${publisher.queue} takes`,
      );
    }
  }
  if (partial.byteLength > 0) await send([partial]);
  return count;
}
