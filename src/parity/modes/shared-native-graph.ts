import type { Bundle } from '../../keras/bundle.js';
import type { NativeGraph } from '../../native/native-graph.js';
import type { SharedResources } from './shared-resources.js';

/**
 * The bundle's SavedModel with both endpoints, loaded once for the native-graph modes: tfjs-node
 * keeps one TensorFlow session for the signatures of a SavedModel loaded together, and a session
 * is the costly part of a load (ResNet50: 5.2 s for the first signature, 1.1 s for the second).
 */
export function sharedNativeGraph(shared: SharedResources, bundle: Bundle): Promise<NativeGraph> {
  return shared.get(
    `native-graph:${bundle.dir}`,
    async () => {
      // Imported here: the parity modes also run in browser pages, where Node's backend never is.
      const { loadNativeGraph } = await import('../../native/native-graph.js');
      return loadNativeGraph(bundle.dir, bundle.manifest);
    },
    (graph) => graph.dispose(),
  );
}
