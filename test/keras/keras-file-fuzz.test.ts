import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { useBackend } from '../../src/backends/index.js';
import { convertKerasModel } from '../../src/convert/convert-model.js';
import { KerasBridgeError } from '../../src/errors.js';
import { readKerasModelFile } from '../../src/keras/keras-file/read-model-file.js';
import type { Hdf5Reader } from '../../src/keras/keras-file/hdf5-tasks.js';
import '../../src/layers/seed/index.js';
import { FILES, KERAS_FIXTURES, mutate, mutationFor } from '../support/keras-file-mutations.js';

// Mutated Keras model files through the whole TypeScript pipeline, in-process: read the file
// (zip, JSON, HDF5), then convert it (tfjs builds the model and takes its weights). A hostile or
// damaged file must either convert or be refused with a typed KerasBridgeError (exit 2, a
// message); any other error escaping (TypeError, RangeError, a tfjs Error) is a bug, exit 70.
//
// CI runs a bounded number of cases; KERAS_BRIDGE_FUZZ=1 (npm run fuzz) runs 2000, KERAS_BRIDGE_FUZZ=N
// runs N. KERAS_BRIDGE_FUZZ_SEED=S replays fast-check's seed S (printed with a failure).

const FUZZ = process.env['KERAS_BRIDGE_FUZZ'] ?? '';
const FUZZ_RUNS = /^\d+$/.test(FUZZ) && Number(FUZZ) > 0 ? (FUZZ === '1' ? 2000 : Number(FUZZ)) : 0;
// CI replays one fixed seed (reproducible); a fuzz run draws a new one each time. A damaged HDF5
// file can make HDF5 itself loop: the read runs in a worker stopped after HDF5_TIMEOUT_MS.
const SEED = process.env['KERAS_BRIDGE_FUZZ_SEED'] ?? (FUZZ_RUNS > 0 ? undefined : '20240611');
/** Per case: reading and converting any of these small files takes well under a second. */
const CASE_LIMIT_MS = 20_000;
/** The HDF5 reader's stop, shorter than its default so a looping file ends inside CASE_LIMIT_MS. */
const HDF5_TIMEOUT_MS = 10_000;

/** Reads and converts a file: a typed refusal or a conversion, anything else is thrown as a finding. */
async function readAndConvert(file: string, hdf5Reader: Hdf5Reader = 'auto'): Promise<'converted' | string> {
  try {
    const model = await readKerasModelFile(file, { hdf5TimeoutMs: HDF5_TIMEOUT_MS, hdf5Reader });
    await convertKerasModel(model.modelConfig, model.weights, model.source, { fromFile: true });
    return 'converted';
  } catch (e) {
    if (e instanceof KerasBridgeError) return e.name;
    const error = e as Error;
    throw new Error(`an untyped ${error?.constructor?.name ?? typeof e} escaped: ${String(error?.message ?? e).slice(0, 600)}\n${error?.stack ?? ''}`);
  }
}

describe('mutated .keras and .h5 files: converted or refused with a typed error, nothing else', function () {
  let tmp: string;
  const outcomes = new Map<string, number>();
  before(async () => {
    await useBackend('cpu');
    tmp = await mkdtemp(path.join(os.tmpdir(), 'kb-fuzz-'));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
    if (outcomes.size > 0) console.log(`      outcomes: ${[...outcomes].map(([k, n]) => `${k} ${n}`).join(', ')}`);
  });

  it('every fixture converts or is refused unmutated (the baseline)', async () => {
    for (const file of FILES) await readAndConvert(path.join(KERAS_FIXTURES, file));
  });

  it(`random mutations (${FUZZ_RUNS || 'CI: 500'} cases${SEED ? `, seed ${SEED}` : ''})`, async function () {
    this.timeout(FUZZ_RUNS > 0 ? 0 : 120_000);
    const cases = fc.constantFrom(...FILES).chain((file) => fc.record({ file: fc.constant(file), mutation: mutationFor(file) }));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(cases, async ({ file, mutation }) => {
        const target = path.join(tmp, `case-${n++}${path.extname(file)}`);
        await writeFile(target, mutate(file, mutation));
        const started = Date.now();
        try {
          const outcome = await readAndConvert(target);
          outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
        } finally {
          await rm(target, { force: true });
        }
        const took = Date.now() - started;
        assert.ok(took < CASE_LIMIT_MS, `${file}: took ${took} ms, over ${CASE_LIMIT_MS} ms`);
      }),
      { numRuns: FUZZ_RUNS || 500, ...(SEED ? { seed: Number(SEED) } : {}) },
    );
  });

  it(`the same outcome with the TypeScript HDF5 reader first as with h5wasm alone (${FUZZ_RUNS || 'CI: 400'} cases)`, async function () {
    // docs/hostile-input.md, "HDF5": the TypeScript reader reads a file whole or leaves it to
    // h5wasm; a damaged file h5wasm refuses that it read would convert here and not in Keras.
    this.timeout(FUZZ_RUNS > 0 ? 0 : 180_000);
    const cases = fc.constantFrom(...FILES).chain((file) => fc.record({ file: fc.constant(file), mutation: mutationFor(file) }));
    const outcome = async (file: string, hdf5Reader: Hdf5Reader) => {
      const text = await readAndConvert(file, hdf5Reader);
      // A kind of error, not its words: a damaged file can fail inside HDF5 at different places.
      return text === 'converted' ? text : text.split(':')[0];
    };
    let n = 0;
    await fc.assert(
      fc.asyncProperty(cases, async ({ file, mutation }) => {
        const target = path.join(tmp, `same-${n++}${path.extname(file)}`);
        await writeFile(target, mutate(file, mutation));
        try {
          assert.equal(await outcome(target, 'auto'), await outcome(target, 'h5wasm'), `${file}: ${JSON.stringify(mutation)}`);
        } finally {
          await rm(target, { force: true });
        }
      }),
      { numRuns: FUZZ_RUNS || 400, ...(SEED ? { seed: Number(SEED) } : {}) },
    );
  });

  it('a damaged HDF5 B-tree that makes HDF5 loop forever is stopped and refused (found by this fuzzing)', async function () {
    this.timeout(60_000);
    // Byte flips inside kw_sequential.keras's model.weights.h5 that made h5wasm spin at 100% CPU.
    const mutation = { target: 'model.weights.h5', mutation: { kind: 'flip', changes: [[1131894236, 169], [1147363552, 180], [1246687805, 240], [629533442, 78], [2097598143, 215]] } };
    const target = path.join(tmp, 'looping.keras');
    await writeFile(target, mutate('kw_sequential.keras', mutation as unknown as Parameters<typeof mutate>[1]));
    const started = Date.now();
    await assert.rejects(readKerasModelFile(target, { hdf5TimeoutMs: 3_000 }), (e: Error) => e instanceof KerasBridgeError && /did not finish in 3 s and was stopped/.test(e.message));
    assert.ok(Date.now() - started < 15_000, `stopped after ${Date.now() - started} ms`);
  });
});
