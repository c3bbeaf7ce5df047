import type { Worker } from 'node:worker_threads';
import { InputError, UnsupportedLayerError, WeightMismatchError, type KerasBridgeError } from '../../errors.js';
import { markCheckedFinite } from '../../convert/checked-finite.js';
import { returnHdf5Reader, takeHdf5Reader } from './hdf5-reader-pool.js';
import type { DatasetCopy, Hdf5CopyReply, Hdf5OpenResult, Hdf5ReadReply, Hdf5Reply, Hdf5Request } from './hdf5-tasks.js';

/** How long one answer of the HDF5 reader may take: the largest keras.applications weights (1.4 GB) read in seconds. */
export const DEFAULT_HDF5_TIMEOUT_MS = 60_000;

const TYPED_ERRORS: Record<string, new (message: string) => KerasBridgeError> = {
  InputError,
  UnsupportedLayerError,
  WeightMismatchError,
};

/** One caller's share of a gathered request. */
interface Gathered {
  kind: 'read' | 'copy';
  items: unknown[];
  resolve: (reply: Hdf5ReadReply | Hdf5CopyReply) => void;
  reject: (error: unknown) => void;
}

interface WorkerReply {
  result?: Hdf5Reply;
  error?: { name: string; message: string; stack?: string; typed: boolean; system?: { code: string; syscall?: string; path?: string } };
  trapped?: boolean;
}

/**
 * One HDF5 file open in a worker thread (hdf5-tasks.ts), read a dataset at a time, until `close`.
 * Each answer must come within `timeoutMs`, or the worker is terminated: HDF5 is synchronous
 * WebAssembly, and a damaged file whose structure loops (found by fuzzing: a few flipped bytes in
 * a B-tree) would otherwise spin forever with no way to stop it from the same thread. A worker
 * whose h5wasm trapped (read out of bounds) is never reused, its memory not being trusted; HDF5's
 * own errors are its normal error path and leave it sound. Typed errors come back as themselves;
 * bytes are transferred, not copied.
 */
export class Hdf5Session {
  private queue: Promise<unknown> = Promise.resolve();
  /** Reads, and copies, waiting to go to the reader in its next request of their kind (together). */
  private readonly gathering = new Map<Gathered['kind'], Gathered[]>();
  private worker: Worker | undefined;
  private sound = true;

  private constructor(
    private readonly file: string,
    private readonly timeoutMs: number,
  ) {
    this.worker = takeHdf5Reader();
  }

  /** Opens `request`'s file in a worker: its model and its weights' places (no values yet). */
  static async open(request: Extract<Hdf5Request, { kind: 'keras3-weights' | 'legacy-model' }>, timeoutMs = DEFAULT_HDF5_TIMEOUT_MS): Promise<{ session: Hdf5Session; result: Hdf5OpenResult }> {
    const session = new Hdf5Session(request.file, timeoutMs);
    const bytes = 'bytes' in request.content ? request.content.bytes : undefined;
    const whole = bytes !== undefined && bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    try {
      const result = (await session.call(request, whole ? [bytes.buffer as ArrayBuffer] : [])) as Hdf5OpenResult;
      return { session, result };
    } catch (e) {
      session.end(false);
      throw e;
    }
  }

  /**
   * The datasets' bytes, in the order asked; those the reader found all finite are marked so
   * (checked-finite.ts). Reads asked for while the reader is busy go to it together, in one
   * request, once it is free: a converter reading ahead through a model's many small weights
   * (ResNet50's 320, most of them a batch normalization's 256 floats) pays one round trip to the
   * worker for many instead of one each.
   */
  async read(paths: string[]): Promise<Uint8Array[]> {
    const { bytes, allFinite } = await this.together<string, Hdf5ReadReply>('read', paths);
    bytes.forEach((b, i) => allFinite[i] && markCheckedFinite(b));
    return bytes;
  }

  /**
   * Writes each dataset into its ranges of existing files, on the reader's thread (hdf5-file.ts
   * copyDataset); for each, whether it is float32 with every value finite. Gathered as reads are.
   */
  async copy(copies: DatasetCopy[]): Promise<boolean[]> {
    return (await this.together<DatasetCopy, Hdf5CopyReply>('copy', copies)).allFinite;
  }

  /**
   * `items` sent in the next request of `kind` with every other item asked for meanwhile; the
   * reply's lists cut back into each caller's share.
   */
  private together<Item, Reply extends Hdf5ReadReply | Hdf5CopyReply>(kind: Gathered['kind'], items: Item[]): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const asked: Gathered = { kind, items, resolve: resolve as Gathered['resolve'], reject };
      const open = this.gathering.get(kind);
      if (open) {
        open.push(asked);
        return;
      }
      const group = [asked];
      this.gathering.set(kind, group);
      const request = (): Hdf5Request => {
        if (this.gathering.get(kind) === group) this.gathering.delete(kind);
        const all = group.flatMap((g) => g.items);
        return kind === 'read' ? { kind, paths: all as string[] } : { kind, copies: all as DatasetCopy[] };
      };
      this.call(request).then(
        (reply) => {
          let at = 0;
          for (const g of group) {
            const share = <T>(list: T[]): T[] => list.slice(at, at + g.items.length);
            const { allFinite } = reply as Hdf5CopyReply;
            g.resolve('bytes' in reply ? { bytes: share((reply as Hdf5ReadReply).bytes), allFinite: share(allFinite) } : { allFinite: share(allFinite) });
            at += g.items.length;
          }
        },
        (error: unknown) => {
          if (this.gathering.get(kind) === group) this.gathering.delete(kind);
          for (const g of group) g.reject(error);
        },
      );
    });
  }

  /**
   * Hands a read's bytes back for the worker to fill again (BufferPool): the caller must not use
   * them after. Not answered, and dropped once the session is closed.
   */
  recycle(bytes: Uint8Array): void {
    const buffer = bytes.buffer as ArrayBuffer;
    if (!this.worker || buffer.byteLength === 0 || buffer instanceof SharedArrayBuffer) return;
    this.worker.postMessage({ kind: 'recycle', buffers: [buffer] } satisfies Hdf5Request, [buffer]);
  }

  /** Closes the file; the worker waits for the next one. Safe to call twice. */
  async close(): Promise<void> {
    if (!this.worker) return;
    try {
      await this.call({ kind: 'close' });
    } finally {
      this.end(this.sound);
    }
  }

  private end(keepWorker: boolean): void {
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    if (keepWorker) returnHdf5Reader(worker);
    else void worker.terminate();
  }

  /** One request at a time: each waits for the one before to be answered (and is made then, where given as a function). */
  private call(request: Hdf5Request | (() => Hdf5Request), transfer: ArrayBuffer[] = []): Promise<Hdf5Reply> {
    const answer = this.queue.then(() => this.send(typeof request === 'function' ? request() : request, transfer));
    this.queue = answer.catch(() => undefined);
    return answer;
  }

  private send(request: Hdf5Request, transfer: ArrayBuffer[]): Promise<Hdf5Reply> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new Error(`${this.file}: its HDF5 reader was closed`));
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (fn: () => void, failed = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (failed) {
          this.sound = false;
          this.end(false);
        }
        fn();
      };
      const onMessage = (reply: WorkerReply) => {
        if (reply.trapped) this.sound = false;
        finish(() => {
          if (reply.result) return resolve(reply.result);
          const { name, message, stack, typed, system } = reply.error!;
          const Typed = typed ? (TYPED_ERRORS[name] ?? InputError) : undefined;
          if (Typed) return reject(new Typed(message));
          const error: NodeJS.ErrnoException = Object.assign(new Error(message), system ?? {});
          error.stack = stack ?? message;
          reject(error);
        });
      };
      const onError = (e: Error) => finish(() => reject(e), true);
      const onExit = (code: number) => finish(() => reject(new Error(`the HDF5 reader's worker exited (${code}) without an answer`)), true);
      const timer = setTimeout(
        () =>
          finish(
            () =>
              reject(
                new InputError(
                  `${this.file}: reading its HDF5 data did not finish in ${Math.round(this.timeoutMs / 1000)} s and was stopped: a damaged ` +
                    `file whose structure loops. Re-save the model with Keras.`,
                ),
              ),
            true,
          ),
        this.timeoutMs,
      );
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(request, transfer);
    });
  }
}
