// Runs one converted model on two backends with the same weights and inputs and prints how far
// apart its outputs and the gradients of a seeded loss sum(outputs * c) w.r.t. every trainable
// weight are (c seeded: sum(outputs) alone has zero gradient through a softmax head): a
// full-size correctness check for a backend with no Keras at hand (a GPU machine has no TensorFlow).
//   node scripts/gpu/gpu-agreement.mjs MODEL_DIR BATCH BACKEND REFERENCE_BACKEND
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../dist/src/backends/index.js';
import { loadConvertedModel } from '../../dist/src/tfjs-io/load-converted-model.js';

const [dir, batchText, backend, reference] = process.argv.slice(2);
const batch = Number(batchText);

async function run(name, model, inputData) {
  await useBackend(name);
  const weights = model.trainableWeights.map((w) => w.read());
  const inputs = inputData.map(({ values, shape }) => tf.tensor(values, shape));
  const start = performance.now();
  const outputs = [model.predict(inputs.length === 1 ? inputs[0] : inputs)].flat();
  const cotangents = outputs.map((o, i) => tf.randomUniform(o.shape, -1, 1, 'float32', 100 + i));
  const { grads } = tf.variableGrads(
    () => tf.addN([model.predict(inputs.length === 1 ? inputs[0] : inputs)].flat().map((o, i) => o.mul(cotangents[i]).sum())),
    weights,
  );
  const read = async (t) => ({ values: await t.data(), shape: t.shape });
  const result = { outputs: await Promise.all(outputs.map(read)), grads: {} };
  for (const [key, g] of Object.entries(grads)) result.grads[key] = await read(g);
  result.ms = performance.now() - start;
  tf.dispose([...outputs, ...cotangents, ...Object.values(grads), ...inputs]);
  return result;
}

function distance(a, b) {
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { maxAbs, refMax: scale, relToMax: scale > 0 ? maxAbs / scale : maxAbs, finite: a.every(Number.isFinite) };
}

await useBackend(reference);
const model = await loadConvertedModel(dir);
const inputData = model.inputs.map((input, i) => {
  const shape = [batch, ...input.shape.slice(1)];
  return { values: tf.tidy(() => tf.randomNormal(shape, 0, 1, 'float32', i).dataSync()), shape };
});
const ref = await run(reference, model, inputData);
const got = await run(backend, model, inputData);
const rows = [
  ...ref.outputs.map((o, i) => ({ tensor: `output ${i}`, ...distance(got.outputs[i].values, o.values) })),
  ...Object.keys(ref.grads).map((k) => ({ tensor: `grad ${k}`, ...distance(got.grads[k].values, ref.grads[k].values) })),
];
rows.sort((x, y) => y.relToMax - x.relToMax);
const worst = rows[0];
console.log(JSON.stringify({ model: dir, batch, backend, reference, tensors: rows.length, nonFinite: rows.filter((r) => !r.finite).length,
  worst, outputs: rows.filter((r) => r.tensor.startsWith('output')), msBackend: Math.round(got.ms), msReference: Math.round(ref.ms),
  worstFive: rows.slice(0, 5) }));
