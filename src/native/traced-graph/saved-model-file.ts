import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ProtoMessage } from './protobuf-writer.js';
import type { GraphNames } from './graph-def.js';
import type { TracedTensor } from './op-trace.js';
import { TENSORFLOW_VERSION } from './tensorflow-op-inputs.generated.js';

/** The signature a traced graph is loaded by (tfjs-node's loadSavedModel takes its key). */
export const TRACED_SIGNATURE = 'serving_default';
export const TRACED_TAGS = ['serve'];

/**
 * Writes `dir`/saved_model.pb: a SavedModel (schema version 1) of one MetaGraphDef tagged `serve`,
 * holding `graph` and a signature that names its inputs and outputs. No variables: a traced
 * graph's weights are its constants, so TensorFlow restores nothing when it loads it.
 */
export function writeSavedModel(dir: string, graph: ProtoMessage, names: GraphNames, inputs: readonly TracedTensor[], outputs: readonly TracedTensor[]): void {
  const signature = new ProtoMessage();
  names.inputs.forEach((name, i) => signature.mapEntry(1, name, tensorInfo(`${name}:0`, inputs[i]!)));
  names.outputs.forEach((name, i) => signature.mapEntry(2, name, tensorInfo(`${name}:0`, outputs[i]!)));
  signature.string(3, 'tensorflow/serving/predict');
  const metaInfo = new ProtoMessage().string(1, 'keras-bridge traced graph');
  for (const tag of TRACED_TAGS) metaInfo.string(4, tag);
  metaInfo.string(5, TENSORFLOW_VERSION);
  const metaGraph = new ProtoMessage().message(1, metaInfo).message(2, graph).mapEntry(5, TRACED_SIGNATURE, signature);
  const savedModel = new ProtoMessage().varint(1, 1).message(2, metaGraph);
  mkdirSync(dir, { recursive: true });
  // 'wx': never over a file that is already there.
  const fd = openSync(path.join(dir, 'saved_model.pb'), 'wx');
  try {
    for (const chunk of savedModel.chunks()) {
      for (let at = 0; at < chunk.byteLength; ) at += writeSync(fd, chunk, at, chunk.byteLength - at);
    }
  } finally {
    closeSync(fd);
  }
}

function tensorInfo(name: string, tensor: TracedTensor): ProtoMessage {
  const shape = new ProtoMessage();
  for (const size of tensor.shape) shape.message(2, new ProtoMessage().varint(1, size));
  return new ProtoMessage().string(1, name).varint(2, tensor.dtype).message(3, shape);
}
