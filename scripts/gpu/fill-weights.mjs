// Writes seeded weights for a converted model directory whose shards were left behind (a GPU
// machine is sent model.json alone: ResNet50's 98 MB of weights do not fit the transfer).
// Kernels ~ U(-a, a) with a = sqrt(3 / fan_in) (variance 1/fan_in: activations keep their scale),
// batch-norm scales and variances ~ U(0.5, 1.5), everything else ~ U(-0.05, 0.05). Timing does
// not depend on the values; gpu-agreement.mjs compares two backends on the same ones.
//   node scripts/gpu/fill-weights.mjs MODEL_DIR
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const dir = process.argv[2];
const model = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8'));
let state = 20261204;
const uniform = () => {
  // mulberry32
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
let total = 0;
for (const group of model.weightsManifest) {
  const parts = group.weights.map((w) => {
    if (w.dtype !== 'float32') throw new Error(`${w.name}: only float32 weights are filled, not ${w.dtype}`);
    const size = w.shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    const leaf = w.name.split('/').at(-1);
    const [low, high] = /gamma|variance/.test(leaf)
      ? [0.5, 1.5]
      : /kernel|embeddings/.test(leaf) && w.shape.length >= 2
        ? ((a) => [-a, a])(Math.sqrt(3 / (size / w.shape.at(-1))))
        : [-0.05, 0.05];
    for (let i = 0; i < size; i++) values[i] = low + (high - low) * uniform();
    return Buffer.from(values.buffer);
  });
  const bytes = Buffer.concat(parts);
  total += bytes.length;
  let offset = 0;
  const shardSize = Math.ceil(bytes.length / group.paths.length);
  for (const shard of group.paths) {
    writeFileSync(path.join(dir, shard), bytes.subarray(offset, offset + shardSize));
    offset += shardSize;
  }
}
console.log(`fill-weights: ${dir}: ${(total / 1e6).toFixed(1)} MB`);
