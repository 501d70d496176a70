/**
 * Node stream adapters. Each `write()` is one record and each chunk read is
 * one record, so record boundaries survive (the Readable is in object mode).
 */
import { Readable, Writable } from 'node:stream';
import type { RingReader } from './reader';
import type { RingWriter } from './writer';

/** A Writable that applies backpressure while the slowest gating reader leaves no room. */
export class RingWritable extends Writable {
  constructor(private readonly writer: RingWriter, options: { highWaterMark?: number } = {}) {
    super({ highWaterMark: options.highWaterMark, decodeStrings: true });
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (err?: Error | null) => void): void {
    if (this.writer.tryWrite(chunk)) return done();
    this.writer.write(chunk).then(() => done(), done);
  }

  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    this.writer.writeBatch(chunks.map((c) => c.chunk)).then(() => done(), done);
  }

  override _final(done: (err?: Error | null) => void): void {
    done();
  }
}

/** A Readable of one reader's records (object mode: one chunk per record). Destroying it closes the reader. */
export class RingReadable extends Readable {
  private reading = false;

  constructor(private readonly reader: RingReader, options: { highWaterMark?: number } = {}) {
    super({ objectMode: true, highWaterMark: options.highWaterMark ?? 1024 });
  }

  override _read(size: number): void {
    if (this.reading) return;
    this.reading = true;
    this.reader.readBatch(Math.max(1, Math.min(size, 1024))).then(
      (records) => {
        this.reading = false;
        if (records.length === 0) return void this.push(null); // closed
        for (const record of records) this.push(record);
      },
      (err: Error) => {
        this.reading = false;
        this.destroy(err);
      },
    );
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    this.reader.close();
    done(err);
  }
}
