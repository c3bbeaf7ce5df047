import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What scripts/build-native-backend.mjs recorded about its last run. */
export interface NativeBuildStatus {
  ok: boolean;
  /** The build step that failed, when ok is false. */
  step?: string;
  reason?: string;
  /** The venv's tensorflow/ folder the binding was linked against. */
  tfDir?: string;
  /** process.versions.modules of the Node that built it: zero-copy reads tie the binding to it. */
  nodeAbi?: string;
  /** Whether its source was extended with list attributes (fused kernels) and zero-copy reads. */
  listAttributes?: boolean;
  zeroCopyReads?: boolean;
  /** Whether its module source was extended with releaseArrayBuffers (scripts/binding-release-arrays.mjs). */
  releaseArrays?: boolean;
  at?: string;
}

const STATUS_PATH = path.join('node_modules', '.cache', 'keras-bridge', 'native-backend.json');

/** The last native build's outcome, looked up in the node_modules above this file; undefined if none ran. */
export function readNativeBuildStatus(): NativeBuildStatus | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, STATUS_PATH);
    if (fs.existsSync(candidate)) return parseStatus(candidate);
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function parseStatus(file: string): NativeBuildStatus | undefined {
  try {
    const value: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    return typeof value === 'object' && value !== null && typeof (value as NativeBuildStatus).ok === 'boolean' ? (value as NativeBuildStatus) : undefined;
  } catch {
    return undefined;
  }
}
