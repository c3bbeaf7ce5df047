/**
 * Weight bytes whose float32 values a reader already found all finite as it copied them (the
 * HDF5 reader does, in its worker, while the bytes are in cache): the converter's NaN/Inf check
 * (weight-stream.ts) skips them rather than read every value a second time on the main thread.
 * Keyed by the very Uint8Array the reader returned: a copy or a cast is checked as usual.
 */
const checked = new WeakSet<Uint8Array>();

export function markCheckedFinite(bytes: Uint8Array): void {
  checked.add(bytes);
}

export function isCheckedFinite(bytes: Uint8Array): boolean {
  return checked.has(bytes);
}
