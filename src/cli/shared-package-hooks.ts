/**
 * Node module-resolution hooks (registered with module.register by custom-layer-modules.ts) for
 * --custom-layers modules that live outside keras-bridge's tree: a bare import of one of
 * keras-bridge's shared packages (`@tensorflow/*`, `zod`, `keras-bridge` and its subpaths) from
 * such a module resolves as if keras-bridge itself imported it. A module with no node_modules of
 * its own then loads, and one whose package has its own copy of tfjs uses keras-bridge's instead:
 * tfjs keeps its class registry per copy, so a layer registered with a second copy would be
 * invisible to the converter.
 */
export interface SharedPackagesData {
  /** Package names (`zod`) and scopes (`@tensorflow/`) to share. */
  packages: string[];
  /** keras-bridge's package.json, as a file URL: the parent the shared packages resolve from. */
  parentURL: string;
  /** keras-bridge's root directory, as a file URL ending in '/': imports from inside it are left alone. */
  rootURL: string;
}

interface ResolveContext {
  parentURL?: string;
  conditions: string[];
  importAttributes: Record<string, string>;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string }>;

let shared: SharedPackagesData = { packages: [], parentURL: '', rootURL: '' };

export function initialize(data: SharedPackagesData): void {
  shared = data;
}

export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): Promise<{ url: string }> {
  const fromOutside = context.parentURL !== undefined && !context.parentURL.startsWith(shared.rootURL);
  if (fromOutside && isShared(specifier)) return nextResolve(specifier, { ...context, parentURL: shared.parentURL });
  return nextResolve(specifier, context);
}

function isShared(specifier: string): boolean {
  return shared.packages.some((name) => (name.endsWith('/') ? specifier.startsWith(name) : specifier === name || specifier.startsWith(`${name}/`)));
}
