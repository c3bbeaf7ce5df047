import type { Tolerance } from '../parity/tolerance.js';
import type { KernelFixSet } from './kernel-fixes/index.js';

/** What every backend declares, in Node or in a browser page (docs/backends.md). */
interface BackendDescriptorBase {
  /** The --backend name, e.g. 'wasm' or 'chromium-webgl-f16'. */
  name: string;
  /** One line for --backend help. */
  description: string;
  /** The tfjs backend tf.setBackend() selects, e.g. 'webgl' for 'chromium-webgl-f16'. */
  tfjsBackend: string;
  /** The kernel-fix set (src/backends/kernel-fixes) installed on tfjsBackend, or null for none. */
  kernelFixes: KernelFixSet | null;
  /** A floor under the default tolerances, for arithmetic coarser than float32 (docs/tolerances.md). */
  toleranceFloor: Tolerance | null;
  /** What to do when it is unavailable: ends BackendUnavailableError's message. */
  installHint: string;
}

/** A backend that runs in this Node process. */
export interface NodeBackendDescriptor extends BackendDescriptorBase {
  kind: 'node';
  /** Registers tfjsBackend with @tensorflow/tfjs (loading its package); idempotent; does not select it. */
  register(): Promise<void>;
  /**
   * Whether `npm run setup` leaves it out (it needs what the user installs: a package, a driver),
   * so that its absence is reported and skipped, never a failure.
   */
  optional?: boolean;
  /**
   * What it runs on, once started, for reports (e.g. wasm's XNNPACK threads, webgpu's adapter);
   * undefined when there is nothing beyond its description to say.
   */
  details?(): Promise<string | undefined>;
}

/**
 * A module the page imports before selecting the backend, and optionally an export it then calls
 * (awaited) with `args`: plain data, since it crosses into the page.
 */
export interface PageSetupStep {
  /** A bare specifier of the import map, or a URL path the page's server serves. */
  module: string;
  call?: string;
  args?: Array<string | number | boolean>;
}

/** A backend that runs in a headless Chromium page (src/browser). */
export interface BrowserBackendDescriptor extends BackendDescriptorBase {
  kind: 'browser';
  /** tfjs flags the page sets before selecting the backend. */
  tfjsFlags: Record<string, boolean | number>;
  /** Import-map entries the page needs (bare specifier → served URL). */
  importMap: Record<string, string>;
  /** Run in order before tf.setBackend(tfjsBackend). */
  pageSetup: PageSetupStep[];
  /** Chromium arguments beyond src/browser/chromium.ts's base ones; backends with the same set share a browser. */
  chromiumArgs: string[];
}

export type BackendDescriptor = NodeBackendDescriptor | BrowserBackendDescriptor;
