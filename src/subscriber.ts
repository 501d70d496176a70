/**
 * A program's subscription to the bus:
 *
 *   const sub = await Subscriber.connect({ policy: 'block' });
 *   for await (const message of sub) { ... }              // one message at a time, or
 *   for await (const batch of sub.batches()) { ... }      // a MessageBatch per receive
 *   await sub.close();
 *
 * It subscribes with coalesced framing by default (many messages per
 * datagram: the daemon's per-datagram costs vanish for small messages) and
 * decodes it in its receiving thread; messages reach the event loop in
 * batches, each message a view of its batch's buffer.
 *
 * It binds its own abstract socket (in a receiving thread: the binding's
 * calls block), registers it with the daemon, and hands messages out in
 * order. If the process ends without close(), the daemon sees the socket
 * gone (ECONNREFUSED) and removes the sink by itself.
 */
import path from 'node:path';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { controlCall, uniqueAbstractName } from './control-client';
import { DEFAULT_CONTROL, DEFAULT_MAX_MESSAGE } from './defaults';
import { MessageBatch } from './message-batch';
import { MsgmuxError } from './errors';
import type { SinkFraming, SinkPolicy } from './sink/spec';
import { IN_FLIGHT, STOP, type SubscriberEvent, type SubscriberTask } from './subscriber-protocol';
import { ShmSubscriber, type ShmSubscriberOptions } from './shm/shm-subscriber';

export interface SubscriberOptions {
  /** The daemon's control socket (default `@msgmux/control`). */
  control?: string;
  /** Address to receive on (default: a unique abstract name). */
  name?: string;
  policy?: SinkPolicy;
  evictAfterMs?: number;
  /** Largest message expected (default 8192, the daemon's default); longer ones are counted as truncated. */
  maxMessage?: number;
  /** `coalesced` (default): several messages per datagram; `plain`: one per datagram. */
  framing?: SinkFraming;
  /** Ask for each message's ring sequence and ingest stamp (MessageBatch.sequence / stampMicros). Default false. */
  header?: boolean;
}

const RECEIVER = path.join(__dirname, '..', 'workers', 'subscriber-receiver.js');

export class Subscriber implements AsyncIterable<Uint8Array> {
  /** Messages that arrived longer than maxMessage and were cut. */
  truncated = 0;
  /** Coalesced datagrams that did not decode (never expected from a msgmux daemon): dropped. */
  badFrames = 0;
  private readonly pending: MessageBatch[] = [];
  private wake: (() => void) | null = null;
  private closed = false;
  private failure: Error | null = null;

  private constructor(
    readonly name: string,
    private readonly control: string,
    worker: Worker,
    private readonly exited: Promise<unknown>,
    private readonly flags: Int32Array,
  ) {
    worker.on('message', (event: SubscriberEvent) => {
      if (event.type !== 'batch') return;
      this.truncated += event.truncated;
      this.badFrames += event.badFrames;
      this.pending.push(new MessageBatch(event.batch));
      this.notify();
    });
    worker.once('error', (err) => {
      this.failure = err;
      this.notify();
    });
  }

  /** `transport: 'shm'`: read the daemon's ring in shared memory (src/shm/shm-subscriber.ts) instead of a socket. */
  static connect(options: ShmSubscriberOptions & { transport: 'shm' }): Promise<ShmSubscriber>;
  static connect(options?: SubscriberOptions & { transport?: 'socket' }): Promise<Subscriber>;
  static async connect(options: (SubscriberOptions | ShmSubscriberOptions) & { transport?: 'socket' | 'shm' } = {}): Promise<Subscriber | ShmSubscriber> {
    if (options.transport === 'shm') return ShmSubscriber.connect(options);
    return Subscriber.connectSocket(options);
  }

  private static async connectSocket(options: SubscriberOptions): Promise<Subscriber> {
    const control = options.control ?? DEFAULT_CONTROL;
    const name = options.name ?? uniqueAbstractName('sub');
    const flags = new Int32Array(new SharedArrayBuffer(8));
    const framing = options.framing ?? 'coalesced';
    const header = options.header ?? false;
    const task: SubscriberTask = { name, maxMessage: options.maxMessage ?? DEFAULT_MAX_MESSAGE, framing, header, flags };
    const worker = new Worker(RECEIVER, { workerData: task });
    const exited = once(worker, 'exit');
    const [first] = (await once(worker, 'message')) as [SubscriberEvent];
    if (first.type === 'failed') {
      throw new MsgmuxError(first.code, `cannot bind ${name}: ${first.message}`);
    }
    const subscriber = new Subscriber(name, control, worker, exited, flags);
    try {
      // Options left undefined vanish in the JSON: the daemon's defaults apply.
      await controlCall(control, { op: 'subscribe', path: name, policy: options.policy, evictAfterMs: options.evictAfterMs, framing, header });
    } catch (err) {
      await subscriber.stopReceiving();
      throw err;
    }
    return subscriber;
  }

  /** The next batch of messages in arrival order (never empty); null once closed. */
  async next(): Promise<MessageBatch | null> {
    for (;;) {
      const batch = this.pending.shift();
      if (batch) {
        // Credit back: the receiving thread may post one more batch.
        Atomics.sub(this.flags, IN_FLIGHT, 1);
        Atomics.notify(this.flags, IN_FLIGHT);
        if (batch.count > 0) return batch;
        continue;
      }
      if (this.failure) throw this.failure;
      if (this.closed) return null;
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** The next batch as an array of messages; [] once closed. */
  async nextBatch(): Promise<Uint8Array[]> {
    const batch = await this.next();
    return batch ? [...batch] : [];
  }

  /** Every batch until closed: one MessageBatch per receive, its messages views of one buffer. */
  async *batches(): AsyncGenerator<MessageBatch> {
    for (let batch = await this.next(); batch; batch = await this.next()) yield batch;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    for await (const batch of this.batches()) {
      for (let i = 0; i < batch.count; i++) yield batch.message(i);
    }
  }

  /** Unsubscribes (best effort: the daemon also notices a closed socket) and stops receiving. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await controlCall(this.control, { op: 'unsubscribe', path: this.name }, { timeoutMs: 2000 }).catch(() => undefined);
    await this.stopReceiving();
    this.notify();
  }

  private async stopReceiving(): Promise<void> {
    Atomics.store(this.flags, STOP, 1);
    Atomics.notify(this.flags, IN_FLIGHT);
    await this.exited;
  }

  private notify(): void {
    this.wake?.();
    this.wake = null;
  }
}
