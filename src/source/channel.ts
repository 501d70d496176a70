/**
 * The hand-over from a source that needs an event loop (the NATS bridge
 * thread) to ingest, the ring's one writer: a small single-writer ring of its
 * own, plus a doorbell. The bridge writes records into the channel ring and
 * rings the doorbell (a one-byte datagram to an abstract socket ingest
 * polls beside the bus queue). The doorbell carries no data: a stray datagram
 * from anyone else only wakes ingest, and the bytes travel through memory
 * only this process can see. When ingest falls behind, the channel fills and
 * the bridge's writes wait: backpressure stops at the bridge's client.
 */
import { randomBytes } from 'node:crypto';
import { minRingSize } from '../config';
import { hasCode } from '../errors';
import { DgramSocket } from '../native';
import { Ring, type RecordBatch, type RingReader, type RingWriter } from '../ring';

export interface ChannelSpec {
  ring: SharedArrayBuffer;
  doorbell: string;
}

const MIN_CHANNEL_BYTES = 256 * 1024;

/** Made by the main thread, handed to the bridge thread (writer) and ingest (reader). */
export function createChannel(messageSize: number): ChannelSpec {
  let capacity = MIN_CHANNEL_BYTES;
  while (capacity < minRingSize(messageSize)) capacity *= 2;
  const ring = Ring.create({ capacity, maxReaders: 1 });
  return { ring: ring.buffer, doorbell: `@msgmux/doorbell/${process.pid}/${randomBytes(8).toString('hex')}` };
}

/** The bridge thread's end. */
export class ChannelWriter {
  private readonly writer: RingWriter;
  private readonly bell = new DgramSocket({ nonBlocking: true });
  private readonly ding = new Uint8Array(1);

  constructor(private readonly spec: ChannelSpec) {
    this.writer = Ring.attach(spec.ring).writer();
  }

  /** Writes every record, waiting (without blocking the loop) while ingest is behind, then rings. */
  async write(records: readonly Uint8Array[]): Promise<void> {
    let done = 0;
    for (;;) {
      done += this.writer.tryWriteBatch(records, done);
      this.ring(); // before any wait: ingest must know to read, or it would never make room
      if (done === records.length) return;
      await this.writer.write(records[done]);
      done++;
    }
  }

  private ring(): void {
    try {
      this.bell.send(this.ding, this.spec.doorbell);
    } catch (err) {
      // Full: ingest has a wake-up pending anyway. Refused: ingest is not up yet and reads the channel when it is.
      if (!hasCode(err, 'EAGAIN') && !hasCode(err, 'ECONNREFUSED')) throw err;
    }
  }

  close(): void {
    this.writer.close();
    this.bell.close();
  }
}

/** Ingest's end: poll `fd` for the doorbell, then take() and done(). */
export class ChannelSource {
  private readonly reader: RingReader;
  private readonly bell = new DgramSocket({ nonBlocking: true });
  private readonly scratch = new Uint8Array(64);
  private readonly scratchLengths = new Int32Array(32);
  readonly bytes: Uint8Array;

  constructor(spec: ChannelSpec, private readonly max: number) {
    const ring = Ring.attach(spec.ring);
    this.bytes = new Uint8Array(ring.buffer);
    this.bell.bind(spec.doorbell);
    this.reader = ring.reader({ start: 'earliest', policy: 'block', maxBatch: max });
  }

  get fd(): number {
    return this.bell.fd;
  }

  /** Whether records are waiting that no doorbell will announce again. */
  get pending(): boolean {
    return this.reader.lag !== 0;
  }

  /** Silences the doorbell first, so a record written after the peek rings it again. */
  take(): RecordBatch {
    while (this.bell.recvBatch(this.scratch, 2, 32, this.scratchLengths) === 32);
    return this.reader.peek(this.max);
  }

  done(): void {
    this.reader.release();
  }

  close(): void {
    this.reader.close();
    this.bell.close();
  }
}
