import * as tf from '@tensorflow/tfjs';
import type { RandomDrawRecord } from '../keras/bundle-manifest.js';
import { ReplayMismatchError, withDrawSource, type DrawSource } from './replayable-random.js';
import { findTrainingReplayer } from './training-replayers.js';

/** A recorded draw and its values as a tensor (owned by the caller). */
export interface RecordedDraw {
  record: RandomDrawRecord;
  values: tf.Tensor;
}

type LayerCall = (inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>) => tf.Tensor | tf.Tensor[];

/**
 * Makes a converted model's training-mode passes use Keras's random draws: while installed, every
 * layer's `call` (nested models' layers too) runs with a draw source holding the draws Keras made
 * for the same layer path and call; tfjs-layers classes that draw by themselves run their
 * training replayer instead (training-replayers.ts). Call `newPass()` before each model call;
 * `unusedDraws()` then names what the pass did not replay.
 */
export class TrainingReplay {
  private readonly draws = new Map<string, RecordedDraw>();
  private readonly used = new Set<string>();
  private readonly calls = new Map<tf.layers.Layer, number>();
  private readonly restore: Array<() => void> = [];
  private readonly classOf = new Map<string, string>();

  constructor(model: tf.LayersModel, draws: readonly RecordedDraw[]) {
    for (const draw of draws) this.draws.set(drawKey(draw.record.layer_path, draw.record.call, draw.record.index), draw);
    for (const { layer, path } of nestedLayers(model, [])) this.wrap(layer, path);
  }

  newPass(): void {
    this.calls.clear();
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
      const why = className
        ? `its tfjs class ${className} has no training replayer and did not draw through keras-bridge's random`
        : 'the converted model has no layer at that path';
      return `layer '${path}': ${records.length} random draw(s) (${functions}) not replayed: ${why}`;
    });
  }

  uninstall(): void {
    for (const undo of this.restore.splice(0).reverse()) undo();
  }

  private wrap(layer: tf.layers.Layer, path: string[]): void {
    const pathName = path.join('/');
    this.classOf.set(pathName, layer.getClassName());
    const holder = layer as unknown as { call: LayerCall };
    const own = Object.prototype.hasOwnProperty.call(layer, 'call') ? holder.call : undefined;
    const original = holder.call;
    const replayer = findTrainingReplayer(layer.getClassName());
    holder.call = (inputs, kwargs) => {
      const call = this.calls.get(layer) ?? 0;
      this.calls.set(layer, call + 1);
      let index = 0;
      const source: DrawSource = (request) => {
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
      };
      return withDrawSource(source, () => (replayer ? replayer(layer, inputs, kwargs) : original.call(layer, inputs, kwargs)));
    };
    this.restore.push(() => {
      if (own) holder.call = own;
      else delete (layer as unknown as { call?: LayerCall }).call;
    });
  }
}

function drawKey(path: readonly string[], call: number, index: number): string {
  return `${path.join('/')}#${call}#${index}`;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Every layer of `model`, nested models' layers too, with its path of names. */
function nestedLayers(model: tf.LayersModel, prefix: string[]): Array<{ layer: tf.layers.Layer; path: string[] }> {
  return model.layers.flatMap((layer) => {
    const path = [...prefix, layer.name];
    const nested = layer instanceof tf.LayersModel ? nestedLayers(layer, path) : [];
    return [{ layer, path }, ...nested];
  });
}
