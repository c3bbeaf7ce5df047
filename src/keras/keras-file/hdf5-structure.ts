import type { File as H5File, Group } from 'h5wasm';
import { InputError } from '../../errors.js';
import type { Hdf5Limits } from './hdf5-limits.js';
import { groupKeys, isH5Dataset, joinHdf5Path, openedObject } from './hdf5-file.js';

/** What an HDF5 path may name, told without following it. */
const LINK_KINDS = {
  group: 0,
  dataset: 1,
  committedType: 2,
} as const;

/**
 * Walks the whole file once, before anything is read, without following a link out of it:
 * - external links, soft links and virtual datasets are refused (Keras writes none; the first and
 *   last name other files, soft links can point anywhere or at themselves);
 * - group nesting and the number of objects are bounded (a hard link from a group to its own
 *   ancestor makes an endless tree);
 * - every dataset's declared size is checked against the limits, and all of them together against
 *   the file's own size (a compressed or sparse dataset that would inflate past memory).
 * The walk uses an explicit stack, so no input can overflow the call stack.
 */
export function checkHdf5Structure(root: H5File, file: string, fileBytes: number, limits: Hdf5Limits): void {
  const pending: Array<{ group: Group; depth: number }> = [{ group: root, depth: 0 }];
  const seen = new Map<string, string>([[objectAddress(root), '/']]);
  let objects = 0;
  let declaredBytes = 0;
  while (pending.length > 0) {
    const { group, depth } = pending.pop()!;
    for (const key of groupKeys(group)) {
      const path = joinHdf5Path(group.path, key);
      if (++objects > limits.maxObjects) {
        throw new InputError(`${file}: more than ${limits.maxObjects} HDF5 objects (at '${path}'); a Keras weights file holds a few per layer.`);
      }
      refuseLinkOut(group, path, file);
      const kind = group.get_type(path);
      // Opened once, for both checks and for the walks after (each h5wasm call crosses into
      // WebAssembly and resolves the path again).
      const child = kind === LINK_KINDS.group ? openedObject(group, path, 'group') : kind === LINK_KINDS.dataset ? openedObject(group, path, 'dataset') : undefined;
      if (child) refuseSecondLink(child as Group, path, seen, file);
      if (kind === LINK_KINDS.group) {
        if (depth + 1 > limits.maxDepth) {
          throw new InputError(
            `${file}: HDF5 groups nested deeper than ${limits.maxDepth} at '${shorten(path)}': a group that links to itself or ` +
              `to an ancestor (an endless tree). Keras writes a few levels; re-save the model with Keras.`,
          );
        }
        pending.push({ group: child as Group, depth: depth + 1 });
      } else if (kind === LINK_KINDS.dataset) {
        declaredBytes += checkDataset(child, path, file, limits);
        if (declaredBytes > limits.maxTotalBytes) {
          throw new InputError(`${file}: its datasets declare more than ${limits.maxTotalBytes} bytes in all (reached at '${path}'; raise with --max-uncompressed-bytes).`);
        }
      } else if (kind !== LINK_KINDS.committedType) {
        throw new InputError(`${file}: HDF5 object '${path}' is of a kind Keras does not write (type ${kind}).`);
      }
    }
  }
  const allowed = Math.max(fileBytes * limits.maxExpansionRatio, 1024 * 1024);
  if (declaredBytes > allowed) {
    throw new InputError(
      `${file}: its datasets declare ${declaredBytes} bytes, more than ${limits.maxExpansionRatio} times the file's own ` +
        `${fileBytes} bytes (compressed or unallocated data: a decompression bomb?). Keras writes weights uncompressed; raise with --max-compression-ratio.`,
    );
  }
}

/**
 * Keras writes a tree: every object has one path. A second hard link to an object already seen is
 * either a cycle (a group linking to itself or an ancestor) or a shared subtree whose paths multiply
 * with depth; both are refused, told apart by the object's address (HDF5's object reference).
 */
function refuseSecondLink(child: Group, path: string, seen: Map<string, string>, file: string): void {
  const address = objectAddress(child);
  const first = seen.get(address);
  if (first !== undefined) {
    const cycle = path.startsWith(`${first}/`) || first === '/';
    throw new InputError(
      `${file}: HDF5 object '${shorten(path)}' is a second link to '${shorten(first)}'` +
        (cycle ? ', one of its own ancestors (an endless tree)' : '') +
        `; Keras writes every object once. Re-save the model with Keras.`,
    );
  }
  seen.set(address, path);
}

function objectAddress(object: Group): string {
  return Buffer.from(object.create_reference().ref_data).toString('hex');
}

function refuseLinkOut(group: Group, path: string, file: string): void {
  const external = group.get_external_link(path) as { filename?: string; obj_path?: string } | null;
  if (external && typeof external.filename === 'string') {
    throw new InputError(
      `${file}: '${path}' is an HDF5 external link to '${shorten(external.filename)}'; keras-bridge reads nothing outside ` +
        `the model file. Re-save the model with Keras.`,
    );
  }
  const soft = group.get_link(path) as string | null;
  if (typeof soft === 'string') {
    throw new InputError(`${file}: '${path}' is an HDF5 soft link (to '${shorten(soft)}'); Keras writes none. Re-save the model with Keras.`);
  }
}

/** The dataset's declared bytes, refusing a virtual one or one past the per-tensor limit. */
function checkDataset(dataset: unknown, path: string, file: string, limits: Hdf5Limits): number {
  if (!isH5Dataset(dataset)) throw new InputError(`${file}: '${path}' did not open as a dataset.`);
  const meta = dataset.metadata;
  if (meta.virtual_sources && meta.virtual_sources.length > 0) {
    const source = meta.virtual_sources[0]!;
    throw new InputError(
      `${file}: '${path}' is an HDF5 virtual dataset (its data is in '${shorten(source.file_name)}'); keras-bridge reads ` +
        `nothing outside the model file. Re-save the model with Keras.`,
    );
  }
  const shape = meta.shape ?? [];
  const elements = shape.reduce((n, d) => n * d, 1);
  const bytes = elements * Math.max(1, meta.size);
  if (!Number.isFinite(bytes) || bytes > limits.maxTensorBytes) {
    throw new InputError(
      `${file}: dataset '${path}' declares shape [${shape.join(', ')}] (${bytes} bytes), more than the ${limits.maxTensorBytes}-byte ` +
        `limit on one tensor (raise with --max-entry-bytes).`,
    );
  }
  return bytes;
}

/** A path or name from the file, shortened for a message (a cycle's path grows with its depth). */
function shorten(text: string): string {
  return text.length <= 160 ? text : `${text.slice(0, 80)}…${text.slice(-60)} (${text.length} characters)`;
}
