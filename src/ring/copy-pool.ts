/**
 * Where a reader's copies of records live: Buffers viewing a pooled off-heap
 * slab, the way `Buffer.allocUnsafe` pools small Buffers. A small typed
 * array made with `slice` lives on V8's heap, and the first read of its
 * `.buffer` moves it off the heap, which costs more than the read itself; a
 * view of a slab already has its ArrayBuffer. Each copy is a Buffer, made
 * straight over the slab: wrapping a Uint8Array copy in a Buffer afterwards
 * would cost a second view per record (and `subarray` costs more than either).
 *
 * A slab is never reused: when it is full the pool starts a new one and the
 * old one lives as long as any copy in it does. The first slab is made by the
 * first copy: a reader that only peeks (a sink sending out of the ring)
 * allocates none, so readers that come and go leave no garbage behind. So copies stay independent
 * of each other and of the ring, and keeping one copy alive keeps its slab
 * (at most SLAB_BYTES) alive.
 */
import { align8 } from './layout';

export const SLAB_BYTES = 64 << 10;
/** Copies larger than this get an ArrayBuffer of their own rather than most of a slab. */
const POOLED_MAX = SLAB_BYTES >>> 2;
/** Up to this many bytes, a word loop beats `set` (which makes a view of the source first). */
const WORD_COPY_MAX = 128;
const EMPTY = new ArrayBuffer(0);

export class CopyPool {
  private slab: ArrayBuffer = EMPTY;
  private bytes = new Uint8Array(EMPTY);
  private words = new Int32Array(EMPTY);
  /** Where the last copy went: the slab, or a large copy's own memory. */
  private copiedInto: ArrayBuffer = EMPTY;
  /** Starts full, so that the first copy makes the first slab. */
  private used = Infinity;

  /**
   * @param source the ring's bytes, and `sourceWords` the same memory as Int32, for
   *   copying records (8-byte aligned, padded to 8) a word at a time
   */
  constructor(
    private readonly source: Uint8Array,
    private readonly sourceWords: Int32Array,
    private readonly slabBytes = SLAB_BYTES,
  ) {}

  /**
   * A copy of `length` bytes of the ring from byte `offset` on (8-byte
   * aligned there, the bytes up to the next multiple of 8 readable): a Buffer
   * viewing the current slab, 8-byte aligned.
   */
  copy(offset: number, length: number): Buffer {
    const at = this.copyIn(offset, length);
    return Buffer.from(this.copiedInto, at, length);
  }

  /**
   * Copies `count` records lying at `offsets[k]`, `lengths[k]` in the ring. A
   * run of records lying back to back there is copied in one piece, and each
   * record is a Buffer viewing that copy.
   */
  copyBatch(offsets: Int32Array, lengths: Int32Array, count: number): Buffer[] {
    const copies = new Array<Buffer>(count);
    for (let k = 0; k < count; ) {
      let end = k + 1;
      while (end < count && offsets[end] > offsets[end - 1]) end++;
      const first = offsets[k];
      const shift = this.copyIn(first, offsets[end - 1] + lengths[end - 1] - first) - first;
      const memory = this.copiedInto;
      for (; k < end; k++) copies[k] = Buffer.from(memory, offsets[k] + shift, lengths[k]);
    }
    return copies;
  }

  /**
   * Copies `length` bytes from `offset` into the slab (a fresh one if they do
   * not fit), or into memory of their own if large; returns where they start
   * in `this.copiedInto`.
   */
  private copyIn(offset: number, length: number): number {
    if (length > POOLED_MAX) {
      this.copiedInto = new ArrayBuffer(length);
      new Uint8Array(this.copiedInto).set(this.source.subarray(offset, offset + length));
      return 0;
    }
    const size = align8(length);
    if (this.used + size > this.slabBytes) this.roll();
    this.copiedInto = this.slab;
    const at = this.used;
    if (length <= WORD_COPY_MAX) {
      const { words, sourceWords } = this;
      for (let from = offset >> 2, to = at >> 2, end = to + (size >> 2); to < end; ) words[to++] = sourceWords[from++];
    } else {
      this.bytes.set(this.source.subarray(offset, offset + length), at);
    }
    this.used = at + size;
    return at;
  }

  private roll(): void {
    this.slab = new ArrayBuffer(this.slabBytes);
    this.bytes = new Uint8Array(this.slab);
    this.words = new Int32Array(this.slab);
    this.used = 0;
  }
}
