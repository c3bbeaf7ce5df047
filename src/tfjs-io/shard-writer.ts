import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** The shard file names tfjs's own converter gives a model of `totalBytes` in shards of `shardBytes` (one, empty, for none). */
export function shardPaths(totalBytes: number, shardBytes: number): string[] {
  const count = Math.max(1, Math.ceil(totalBytes / shardBytes));
  return Array.from({ length: count }, (_, i) => `group1-shard${i + 1}of${count}.bin`);
}

/**
 * Writes a model's weight bytes, given in order and in pieces of any size, into its shard files:
 * each piece goes to disk as it comes (split where a shard ends), so a model of any size is written
 * holding no more than the piece in hand.
 */
export class ShardWriter {
  readonly paths: string[];
  private shard = -1;
  private handle: FileHandle | undefined;
  private inShard = 0;
  private written = 0;

  constructor(
    private readonly dir: string,
    private readonly totalBytes: number,
    private readonly shardBytes: number,
  ) {
    this.paths = shardPaths(totalBytes, shardBytes);
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.written + bytes.length > this.totalBytes) {
      throw new Error(`weight bytes past the ${this.totalBytes} the manifest declares`);
    }
    let offset = 0;
    while (offset < bytes.length) {
      if (!this.handle || this.inShard === this.shardBytes) await this.nextShard();
      const take = Math.min(bytes.length - offset, this.shardBytes - this.inShard);
      await writeAll(this.handle!, bytes.subarray(offset, offset + take));
      offset += take;
      this.inShard += take;
      this.written += take;
    }
  }

  /** Closes the last shard; every declared byte must have been written (an empty model gets its one empty shard). */
  async finish(): Promise<void> {
    if (this.written !== this.totalBytes) throw new Error(`${this.written} weight bytes written of the ${this.totalBytes} the manifest declares`);
    if (!this.handle) await this.nextShard();
    await this.handle!.close();
    this.handle = undefined;
  }

  /** Closes what is open after a failure (the directory is discarded). */
  async abort(): Promise<void> {
    await this.handle?.close().catch(() => undefined);
    this.handle = undefined;
  }

  private async nextShard(): Promise<void> {
    await this.handle?.close();
    this.shard++;
    this.handle = await open(path.join(this.dir, this.paths[this.shard]!), 'wx');
    this.inShard = 0;
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done);
    done += bytesWritten;
  }
}
