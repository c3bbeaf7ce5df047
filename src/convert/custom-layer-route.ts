import type { RetraceRecord } from '../keras/bundle-manifest.js';
import { isBuiltinKerasModule, type KerasObject } from '../keras/keras-object.js';
import { usableCustomLayer } from '../registry/custom-layer-registry.js';
import { graphRefusal, type GraphFallback } from './graph-fallback-translation.js';
import { tracedLayer, type TracedLayer } from './retrace-translation.js';

/** How a custom layer with no registered TypeScript class converts (docs/custom-layer-routes.md). */
export type CustomLayerRoute = { route: 'retrace'; trace: TracedLayer } | { route: 'graph'; graph: GraphFallback };

/**
 * The one place the routes' precedence is decided: a registered TypeScript class always wins (no
 * route), and route 1's classes, generated from the layer's Python source and loaded before
 * conversion (translated-layers.ts), are registered ones too, below any hand-written class
 * (custom-layer-registry.ts); then route 2's symbolic re-trace, then route 3's graph fallback.
 */
export function customLayerRoute(
  layer: KerasObject,
  layerName: string,
  options: { retraces?: ReadonlyMap<string, RetraceRecord>; graphs?: ReadonlyMap<string, GraphFallback>; translatedClasses?: ReadonlySet<string> },
): CustomLayerRoute | undefined {
  if (isBuiltinKerasModule(layer.module) || usableCustomLayer(layer.class_name, layer.registered_name, options.translatedClasses)) return undefined;
  const trace = tracedLayer(layer, layerName, options.retraces);
  if (trace) return { route: 'retrace', trace };
  const graph = options.graphs?.get(layerName);
  // A graph tfjs cannot run is no route: the layer is missing, and the unregistered-class error says why.
  if (graph && !graphRefusal(graph)) return { route: 'graph', graph };
  return undefined;
}
