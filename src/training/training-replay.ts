import tf from '#tfjs';
import type { RandomDrawRecord } from '../keras/bundle-manifest.js';
import { ReplayMismatchError, withDrawSource, type DrawSource } from './replayable-random.js';
import { subLayersOf } from './sub-layers.js';
import { findTrainingReplayer, type LayerCall } from './training-replayers.js';

/** A recorded draw and its values as a tensor (owned by the caller). */
export interface RecordedDraw {
  record: RandomDrawRecord;
  values: tf.Tensor;
}

/**
 * Makes a converted model's training-mode passes use Keras's random draws: while installed, every
 * layer's `call` (nested models' layers and wrappers' sub-layers too, sub-layers.ts) runs with a
 * draw source holding the draws Keras made for the same layer path and call, and for the
 * sub-layers it names with inSubLayer; tfjs-layers classes that draw by themselves run their
 * training replayer instead (training-replayers.ts). Call `newPass()` before each model call;
 * `unusedDraws()` then names what the pass did not replay.
 */
export class TrainingReplay {
  private readonly draws = new Map<string, RecordedDraw>();
  private readonly used = new Set<string>();
  /** Each layer's calls in this pass, by the ids of their input tensors. */
  private readonly calls = new Map<tf.layers.Layer, string[]>();
  private readonly subLayerCalls = new Map<string, number>();
  private readonly restore: Array<() => void> = [];
  private readonly classOf = new Map<string, string>();

  constructor(model: tf.LayersModel, draws: readonly RecordedDraw[]) {
    for (const draw of draws) this.draws.set(drawKey(draw.record.layer_path, draw.record.call, draw.record.index), draw);
    for (const { layer, path } of nestedLayers(model, [])) this.wrap(layer, path);
  }

  newPass(): void {
    this.calls.clear();
    this.subLayerCalls.clear();
    this.used.clear();
  }

  /** One line per layer whose recorded draws the last pass did not use, with the likely reason. */
  unusedDraws(): string[] {
    const byLayer = new Map<string, RandomDrawRecord[]>();
    for (const [key, draw] of this.draws) {
      if (this.used.has(key)) continue;
      const path = draw.record.layer_path.join('/');
      byLayer.set(path, [...(byLayer.get(path) ?? []), draw.record]);
    }
    return [...byLayer].map(([path, records]) => {
      const functions = [...new Set(records.map((r) => r.function))].join(', ');
      const className = this.classOf.get(path);
      const recorded = records[0]!.layer_path;
      const parent = [...recorded.keys()].reverse().map((n) => recorded.slice(0, n).join('/')).find((p) => p !== '' && this.classOf.has(p));
      const why = className
        ? `its tfjs class ${className} has no training replayer and did not draw through keras-bridge's random`
        : parent
          ? `the converted model has no layer at that path, and its layer '${parent}' (${this.classOf.get(parent)}) did not draw them`
          : 'the converted model has no layer at that path';
      return `layer '${path}': ${records.length} random draw(s) (${functions}) not replayed: ${why}`;
    });
  }

  uninstall(): void {
    for (const undo of this.restore.splice(0).reverse()) undo();
  }

  private wrap(layer: tf.layers.Layer, path: string[]): void {
    // A layer standing for a Keras class (KerasInferenceIdentity's kerasClass) names it too.
    const standsFor = (layer as unknown as { kerasClass?: unknown }).kerasClass;
    this.classOf.set(path.join('/'), typeof standsFor === 'string' ? `${layer.getClassName()} (Keras ${standsFor})` : layer.getClassName());
    const holder = layer as unknown as { call: LayerCall };
    const own = Object.prototype.hasOwnProperty.call(layer, 'call') ? holder.call : undefined;
    const original = holder.call;
    const replayer = findTrainingReplayer(layer.getClassName());
    holder.call = (inputs, kwargs) => {
      const call = this.callNumber(layer, inputs);
      return withDrawSource(this.sourceFor(path, call), () => (replayer ? replayer(layer, inputs, kwargs, (i, k) => original.call(layer, i, k)) : original.call(layer, inputs, kwargs)));
    };
    this.restore.push(() => {
      if (own) holder.call = own;
      else delete (layer as unknown as { call?: LayerCall }).call;
    });
  }

  /**
   * Which call of `layer` in this pass this is. tfjs-layers' executor (model.apply, predict)
   * evaluates a layer with several outputs (return_state) once per output tensor: a call on the
   * very tensors an earlier call had is that same call again, and replays the same draws.
   */
  private callNumber(layer: tf.layers.Layer, inputs: tf.Tensor | tf.Tensor[]): number {
    const key = (Array.isArray(inputs) ? inputs : [inputs]).map((t) => t.id).join(',');
    const calls = this.calls.get(layer) ?? [];
    this.calls.set(layer, calls);
    const earlier = calls.indexOf(key);
    return earlier >= 0 ? earlier : calls.push(key) - 1;
  }

  /** The recorded draws of call `call` of the layer at `path`, in the order it makes them. */
  private sourceFor(path: string[], call: number): DrawSource {
    const pathName = path.join('/');
    let index = 0;
    return {
      draw: (request) => {
        const key = drawKey(path, call, index);
        const draw = this.draws.get(key);
        const where = `layer '${pathName}', call ${call}, draw ${index++}`;
        if (!draw) throw new ReplayMismatchError(`${where}: tfjs drew ${request.function} [${request.shape.join(', ')}], which Keras did not draw`);
        if (draw.record.function !== request.function || !sameShape(draw.values.shape, request.shape)) {
          throw new ReplayMismatchError(
            `${where}: tfjs drew ${request.function} [${request.shape.join(', ')}] where Keras drew ${draw.record.function} [${draw.values.shape.join(', ')}]`,
          );
        }
        this.used.add(key);
        return draw.values;
      },
      subLayer: (name) => {
        const subPath = [...path, this.recordedSubLayer(path, name)];
        const subName = subPath.join('/');
        const subCall = this.subLayerCalls.get(subName) ?? 0;
        this.subLayerCalls.set(subName, subCall + 1);
        return this.sourceFor(subPath, subCall);
      },
    };
  }

  /**
   * The recorded name of the sub-layer `name` of the layer at `path`: `name` itself, or Keras's
   * numbered auto-name (`name_3`) when exactly one such sub-layer drew. When none did, `name`
   * (the draw then fails, naming it).
   */
  private recordedSubLayer(path: string[], name: string): string {
    const isNamed = (candidate: string) => candidate === name || (candidate.startsWith(`${name}_`) && /^\d+$/.test(candidate.slice(name.length + 1)));
    const candidates = new Set<string>();
    for (const draw of this.draws.values()) {
      const recorded = draw.record.layer_path;
      if (recorded.length > path.length && path.every((p, i) => recorded[i] === p) && isNamed(recorded[path.length]!)) {
        candidates.add(recorded[path.length]!);
      }
    }
    if (candidates.has(name) || candidates.size === 0) return name;
    if (candidates.size > 1) {
      throw new ReplayMismatchError(`layer '${path.join('/')}': its sub-layer '${name}' is ambiguous, Keras recorded draws for ${[...candidates].join(', ')}`);
    }
    return [...candidates][0]!;
  }
}

function drawKey(path: readonly string[], call: number, index: number): string {
  return `${path.join('/')}#${call}#${index}`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Every layer of `model`, nested models' layers and layers' sub-layers too, with its path of names. */
function nestedLayers(model: tf.LayersModel, prefix: string[]): Array<{ layer: tf.layers.Layer; path: string[] }> {
  return model.layers.flatMap((layer) => withSubLayers(layer, [...prefix, layer.name]));
}

function withSubLayers(layer: tf.layers.Layer, path: string[]): Array<{ layer: tf.layers.Layer; path: string[] }> {
  const nested = layer instanceof tf.LayersModel ? nestedLayers(layer, path) : subLayersOf(layer).flatMap((sub) => withSubLayers(sub.layer, [...path, sub.name]));
  return [{ layer, path }, ...nested];
}
