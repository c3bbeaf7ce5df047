import type { BundleManifest, RetraceRecord } from '../keras/bundle-manifest.js';
import { graphsFromBundle, type GraphFallback } from './graph-fallback-translation.js';
import { retracesFromManifest } from './retrace-translation.js';
import { loadTranslatedLayers, translationGapsOf, type TranslatedLayers } from './translated-layers.js';

// Node-only (route 1 compiles TypeScript): kept apart from custom-layer-route.ts, which the
// browser-safe runtime reaches through the converter's translators.

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
