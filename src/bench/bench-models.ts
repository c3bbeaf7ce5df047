/** A model `npm run bench` times: a factory of a Python module that scripts/bench_keras.py and the exporter both call. */
export interface BenchModelSpec {
  name: string;
  /** The module's file: its directory goes on the Python path. */
  modelsFile: string;
  /** `module:function`. */
  factory: string;
  /** --custom-layers modules its custom layers are registered by (convert, parity and the timed runs). */
  customLayers?: readonly string[];
}

/** The seed document's layers, written by hand in TypeScript (src/layers/seed), as the demo runs them. */
const SEED_LAYERS = ['keras-bridge/layers/seed'];

/**
 * The seed document's three models, and what users compare a converted model with: ResNet50 and
 * MobileNetV2 at 224x224 and a Transformer encoder block; and four plain matrix products, the speed
 * of each backend's product kernel against TensorFlow's (fixtures/models/bench_models.py).
 */
export function benchModels(root: string): BenchModelSpec[] {
  const seed = `${root}/fixtures/seed/seed_models.py`;
  const bench = `${root}/fixtures/models/bench_models.py`;
  return [
    { name: 'swish', modelsFile: seed, factory: 'seed_models:swish_model', customLayers: SEED_LAYERS },
    { name: 'temporal', modelsFile: seed, factory: 'seed_models:temporal_model', customLayers: SEED_LAYERS },
    { name: 'risk', modelsFile: seed, factory: 'seed_models:risk_model', customLayers: SEED_LAYERS },
    { name: 'resnet50', modelsFile: bench, factory: 'bench_models:resnet50' },
    { name: 'mobilenet_v2', modelsFile: bench, factory: 'bench_models:mobilenet_v2' },
    { name: 'transformer_encoder', modelsFile: bench, factory: 'bench_models:transformer_encoder' },
    { name: 'matmul_stack', modelsFile: bench, factory: 'bench_models:matmul_stack' },
  ];
}
