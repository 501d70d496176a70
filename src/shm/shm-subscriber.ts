/**
 * A subscription through the daemon's ring in shared memory:
 *
 *   const sub = await Subscriber.connect({ transport: 'shm' });   // or ShmSubscriber.connect()
 *   for await (const message of sub) { ... }
 *   await sub.close();
 *
 * It asks the daemon for a reader slot (control op `attach`; the daemon
 * checks this process's credentials), maps the ring read-only and its own
 * cursor page read-write (openShmReader), and reads the ring directly: no
 * socket, no copy by the daemon. The surface is the socket Subscriber's.
 * Leaving: close() frees the slot (the daemon's sweep takes it back); a
 * process that ends without close() is taken back at once (pidfd).
 */
import { controlCall } from '../control-client';
import { DEFAULT_CONTROL } from '../defaults';
import { ErrorCode, MsgmuxError } from '../errors';
import type { RingReader } from '../ring';
import type { SinkPolicy } from '../sink/spec';
import type { ShmGrant } from './shm-ring';
import { openShmReader } from './shm-reader';

export interface ShmSubscriberOptions {
  /** The daemon's control socket (default `@msgmux/control`). */
  control?: string;
  policy?: SinkPolicy;
  evictAfterMs?: number;
  /** `latest` (default): messages published from now on; `earliest`: also the oldest still in the ring. */
  start?: 'latest' | 'earliest';
}

/** The grant in an attach reply, checked: it names files this process will map. */
function grantOf(reply: Record<string, unknown>): ShmGrant {
  const { ring, readerSlot, slotFile } = reply;
  if (typeof ring !== 'string' || typeof slotFile !== 'string' || !Number.isInteger(readerSlot)) {
    throw new MsgmuxError(ErrorCode.SHM_INVALID, `the daemon's attach reply holds no grant: ${JSON.stringify(reply)}`);
  }
  return { ring, readerSlot: readerSlot as number, slotFile };
}

export class ShmSubscriber implements AsyncIterable<Uint8Array> {
  /** Always 0: the ring carries every message whole. Kept for the socket Subscriber's surface. */
  readonly truncated = 0;
  private closed = false;

  private constructor(
    /** The ring's shared-memory name. */
    readonly name: string,
    readonly readerSlot: number,
    private readonly reader: RingReader,
  ) {}

  static async connect(options: ShmSubscriberOptions = {}): Promise<ShmSubscriber> {
    const control = options.control ?? DEFAULT_CONTROL;
    // Options left undefined vanish in the JSON: the daemon's defaults apply.
    const reply = await controlCall(control, { op: 'attach', policy: options.policy, evictAfterMs: options.evictAfterMs, start: options.start });
    const grant = grantOf(reply);
    const { reader } = openShmReader(grant);
    return new ShmSubscriber(grant.ring, grant.readerSlot, reader);
  }

  /** The next batch of messages (copies) in order; [] once closed. */
  nextBatch(): Promise<Buffer[]> {
    return this.closed ? Promise.resolve([]) : this.reader.readBatch();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      const batch = await this.nextBatch();
      if (batch.length === 0) return;
      yield* batch;
    }
  }

  /** Leaves the ring: the slot stops gating at once; the daemon reaps it on its next sweep. */
  close(): Promise<void> {
    this.closed = true;
    this.reader.close();
    return Promise.resolve();
  }
}
