/**
 * A few large buffers handed back after use, for the next tensors of about their size: a 64 MB
 * ArrayBuffer is memory the system must map and zero on every allocation, which cost more than
 * writing the bytes to disk (measured: 1 GB of weights written from fresh buffers in 2.5 s, from
 * reused ones in 0.7 s). Small buffers are left to the allocator, which reuses them anyway.
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];

  constructor(
    /** Buffers under this size are neither pooled nor taken from the pool. */
    private readonly minBytes = 1024 * 1024,
    /** At most this many idle buffers are kept. */
    private readonly capacity = 4,
  ) {}

  /** A buffer of at least `bytes`: a free one no more than twice that size, else a new one. */
  take(bytes: number): ArrayBuffer {
    if (bytes >= this.minBytes) {
      const i = this.free.findIndex((b) => b.byteLength >= bytes && b.byteLength <= 2 * bytes);
      if (i >= 0) return this.free.splice(i, 1)[0]!;
    }
    return new ArrayBuffer(bytes);
  }

  /** Buffers no longer used by anyone. */
  give(buffers: readonly ArrayBuffer[]): void {
    for (const buffer of buffers) {
      if (buffer.byteLength < this.minBytes) continue;
      this.free.push(buffer);
      if (this.free.length > this.capacity) this.free.shift();
    }
  }

  /** Lets the idle buffers go (a reader between files holds none). */
  clear(): void {
    this.free.length = 0;
  }

  get idle(): number {
    return this.free.length;
  }
}
