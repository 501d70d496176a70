/** `msgmux sub`: the console consumer. Prints each message; exits after --count, or on SIGINT/SIGTERM. */
import type { SinkPolicy } from '../sink/spec';
import { Subscriber } from '../subscriber';
import type { SubFormat } from './args';

const FORMATS: Record<SubFormat, (message: Uint8Array) => string> = {
  text: (message) => Buffer.from(message).toString('utf8'),
  hex: (message) => Buffer.from(message).toString('hex'),
  json: (message) => JSON.stringify({ length: message.length, base64: Buffer.from(message).toString('base64') }),
};

export async function sub(options: {
  control: string;
  name?: string;
  policy?: SinkPolicy;
  count?: number;
  format: SubFormat;
  transport?: 'shm';
}): Promise<number> {
  const { transport, ...rest } = options;
  const subscriber = transport === 'shm' ? await Subscriber.connect({ ...rest, transport }) : await Subscriber.connect(rest);
  const close = (): void => void subscriber.close();
  process.once('SIGINT', close);
  process.once('SIGTERM', close);
  const format = FORMATS[options.format];
  let printed = 0;
  for await (const message of subscriber) {
    if (!process.stdout.write(format(message) + '\n')) await new Promise((resolve) => process.stdout.once('drain', resolve));
    if (++printed === options.count) break;
  }
  await subscriber.close();
  return 0;
}
