import type { BundleManifest, RetraceRecord } from '../keras/bundle-manifest.js';
import { isBuiltinKerasModule, type KerasObject } from '../keras/keras-object.js';
import { usableCustomLayer } from '../registry/custom-layer-registry.js';
import { graphRefusal, graphsFromBundle, type GraphFallback } from './graph-fallback-translation.js';
import { retracesFromManifest, tracedLayer, type TracedLayer } from './retrace-translation.js';
import { loadTranslatedLayers, translationGapsOf, type TranslatedLayers } from './translated-layers.js';

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

/** The three routes by the names `--routes` takes, in precedence order. */
export const ROUTE_NAMES = ['translate', 'retrace', 'graph'] as const;
export type RouteName = (typeof ROUTE_NAMES)[number];

/**
 * What a conversion needs from a bundle for the routes it may use: route 1's generated classes
 * (compiled and registered here), route 2's re-traces, route 3's graphs. Leaving a route out
 * (`--routes retrace,graph`) lets a user, or a test, see what another route makes of a layer.
 */
export async function routeInputs(
  manifest: BundleManifest | undefined,
  graphBytes: Uint8Array | undefined,
  routes: readonly RouteName[] = ROUTE_NAMES,
): Promise<{ retraces?: Map<string, RetraceRecord>; graphs?: Map<string, GraphFallback>; translated?: TranslatedLayers; translationGaps?: Map<string, string[]> }> {
  const translated = routes.includes('translate') ? await loadTranslatedLayers(manifest) : undefined;
  return {
    ...(routes.includes('translate') ? { translationGaps: translationGapsOf(manifest) } : {}),
    ...(routes.includes('retrace') ? { retraces: retracesFromManifest(manifest) } : {}),
    ...(routes.includes('graph') ? { graphs: graphsFromBundle(manifest, graphBytes ?? new Uint8Array()) } : {}),
    ...(translated ? { translated } : {}),
  };
}

export function parseRoutes(list: string | undefined): RouteName[] {
  if (list === undefined) return [...ROUTE_NAMES];
  const names = list.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = names.filter((n) => !(ROUTE_NAMES as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`--routes: unknown route(s) ${unknown.join(', ')}; the routes are ${ROUTE_NAMES.join(', ')}`);
  return names as RouteName[];
}
