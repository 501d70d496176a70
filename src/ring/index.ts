export { Ring, type ReaderOptions, type ReaderSnapshot, type RingOptions } from './ring';
export { RingReader, type RecordBatch } from './reader';
export { RingWriter } from './writer';
export { RingReadable, RingWritable } from './streams';
export type { ReaderPolicy } from './layout';
export { align8 } from './layout';
export { seqAdd, seqDiff, seqIsAfter, seqIsBefore } from './sequence';
