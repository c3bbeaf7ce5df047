import { InputError } from '../../../errors.js';

const SAVE_AGAIN = "Save the model again with model.save('model.keras').";
/** For a limit of ArchiveLimits: the file may be genuine but bigger than the limits allow. */
const RAISE_LIMIT = 'If the file is genuine and trusted, raise the limit.';

/** The archive as a whole is unreadable: "model.keras: not a readable .keras (zip) file: <record>: <what>." */
export function archiveError(file: string, what: string): InputError {
  return new InputError(`${file}: not a readable .keras (zip) file: ${what}. ${SAVE_AGAIN}`);
}

/** One entry is refused: "model.keras: zip entry 'config.json': <record>: <what>." */
export function entryError(file: string, entry: string, what: string): InputError {
  return new InputError(`${file}: zip entry '${entry}': ${what}. ${SAVE_AGAIN}`);
}

/** Over a limit; `entry` when one entry is. */
export function limitError(file: string, entry: string | undefined, what: string): InputError {
  return new InputError(`${file}: ${entry === undefined ? '' : `zip entry '${entry}': `}${what}. ${RAISE_LIMIT}`);
}

export function u64(view: Pick<DataView, 'getBigUint64'>, at: number): number {
  // Above 2^53 a size or offset cannot be inside any file we can read; the bounds checks refuse it.
  return Number(view.getBigUint64(at, true));
}
