#!/usr/bin/env node
// Builds @tensorflow/tfjs-node's N-API binding against the TensorFlow C library that the venv's
// tensorflow-cpu wheel ships, instead of the binary its install script would download (the
// measured steps are in docs/native-backend.md). Node builtins only: setup.mjs imports
// nativeBackendState() from here before anything else is installed.
//
//   node scripts/build-native-backend.mjs [--venv <dir>]
//
// Exit 0 when the binding is built and verified, 1 otherwise, naming the step that failed.
// The outcome is also recorded in node_modules/.cache/keras-bridge/native-backend.json, which
// setup.mjs and src/backends read.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { extendBindingSource } from './binding-list-attributes.mjs';
import { extendBindingSourceWithZeroCopyReads } from './binding-zero-copy-reads.mjs';
import { extendBindingSourceWithReleaseArrays } from './binding-release-arrays.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const TFJS_NODE = path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-node');
// node-pre-gyp's find() picks the highest napi version in tfjs-node's package.json that this Node
// supports: 8 on Node 20.
const MODULE_PATH = 'lib/napi-v8';
const BINDING = path.join(TFJS_NODE, MODULE_PATH, 'tfjs_binding.node');
export const STATUS_FILE = path.join(ROOT, 'node_modules', '.cache', 'keras-bridge', 'native-backend.json');

/** deps/lib entry → file in the wheel's tensorflow/ folder that it links to. */
const LIBRARY_LINKS = {
  'libtensorflow.so': 'libtensorflow_cc.so.2',
  'libtensorflow.so.2': 'libtensorflow_cc.so.2',
  // The built binding records this SONAME, so dlopen looks for it by this very name.
  'libtensorflow_cc.so.2': 'libtensorflow_cc.so.2',
  'libtensorflow_framework.so': 'libtensorflow_framework.so.2',
  'libtensorflow_framework.so.2': 'libtensorflow_framework.so.2',
};

class StepError extends Error {
  constructor(step, message) {
    super(message);
    this.step = step;
  }
}

/** The tensorflow/ package folder inside a venv, or undefined when the wheel is not installed. */
export function findTensorflowDir(venv) {
  const lib = path.join(venv, 'lib');
  if (!fs.existsSync(lib)) return undefined;
  for (const entry of fs.readdirSync(lib)) {
    const dir = path.join(lib, entry, 'site-packages', 'tensorflow');
    if (entry.startsWith('python') && fs.existsSync(path.join(dir, 'libtensorflow_cc.so.2'))) return fs.realpathSync(dir);
  }
  return undefined;
}

/** Identifies the installed wheel's library, so that a reinstalled or upgraded tensorflow triggers a rebuild. */
function libraryIdentity(tfDir) {
  const { size, mtimeMs } = fs.statSync(path.join(tfDir, 'libtensorflow_cc.so.2'));
  return `${size}:${Math.round(mtimeMs)}`;
}

function linkPointsTo(link, target) {
  try {
    return fs.lstatSync(link).isSymbolicLink() && path.resolve(path.dirname(link), fs.readlinkSync(link)) === target && fs.existsSync(target);
  } catch {
    return false;
  }
}

function readStatus() {
  try {
    return JSON.parse(fs.readFileSync(STATUS_FILE, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * Whether the binding is built, verified, and linked into this venv's TensorFlow; when not, why.
 * Cheap (a few stat calls): setup.mjs runs it every time.
 */
export function nativeBackendState(venv = path.join(ROOT, '.venv')) {
  if (!fs.existsSync(path.join(TFJS_NODE, 'package.json'))) return { ready: false, why: '@tensorflow/tfjs-node is not installed' };
  if (!fs.existsSync(BINDING)) return { ready: false, why: 'the binding is not built' };
  const tfDir = findTensorflowDir(venv);
  if (!tfDir) return { ready: false, why: `no tensorflow wheel in ${venv}` };
  const status = readStatus();
  if (!status?.ok || status.tfDir !== tfDir || status.tfLibrary !== libraryIdentity(tfDir)) {
    return { ready: false, why: 'the binding was not verified against this venv' };
  }
  if (status.listAttributes === undefined) return { ready: false, why: 'the binding was built before keras-bridge taught it list attributes (fused kernels)' };
  if (status.zeroCopyReads === undefined) return { ready: false, why: 'the binding was built before keras-bridge taught it zero-copy reads' };
  if (status.releaseArrays === undefined) return { ready: false, why: 'the binding was built before keras-bridge taught it to release arrays read' };
  // Zero-copy reads use V8's C++ API, whose ABI changes with Node's major version (N-API's does not).
  if (status.zeroCopyReads && status.nodeAbi !== process.versions.modules) return { ready: false, why: `the binding was built for Node ABI ${status.nodeAbi ?? 'unknown'}, this Node is ${process.versions.modules}` };
  if (!linkPointsTo(path.join(TFJS_NODE, 'deps', 'include'), path.join(tfDir, 'include'))) return { ready: false, why: 'deps/include does not point into this venv' };
  for (const [name, target] of Object.entries(LIBRARY_LINKS)) {
    if (!linkPointsTo(path.join(TFJS_NODE, 'deps', 'lib', name), path.join(tfDir, target))) return { ready: false, why: `deps/lib/${name} does not point into this venv` };
  }
  return { ready: true };
}

function writeStatus(status) {
  fs.mkdirSync(path.dirname(STATUS_FILE), { recursive: true });
  fs.writeFileSync(STATUS_FILE, JSON.stringify({ ...status, at: new Date().toISOString() }, null, 2) + '\n');
}

function run(step, command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw new StepError(step, `${command} could not start: ${result.error.message}`);
  if (result.status !== 0) throw new StepError(step, `exited with ${result.status ?? result.signal}; its output is above`);
  return result;
}

function checkInputs(venv) {
  if (!fs.existsSync(path.join(TFJS_NODE, 'binding.gyp'))) {
    throw new StepError('find @tensorflow/tfjs-node', `${TFJS_NODE} is missing; run npm install (it is an optionalDependency)`);
  }
  const tfDir = findTensorflowDir(venv);
  if (!tfDir) throw new StepError('find TensorFlow', `no tensorflow package with libtensorflow_cc.so.2 under ${venv}/lib/python*/site-packages; run npm run setup`);
  for (const header of ['include/tensorflow/c/c_api.h', 'include/tensorflow/c/eager/c_api.h', 'libtensorflow_framework.so.2']) {
    if (!fs.existsSync(path.join(tfDir, header))) throw new StepError('find TensorFlow', `${path.join(tfDir, header)} is missing`);
  }
  return tfDir;
}

function linkDeps(tfDir) {
  const deps = path.join(TFJS_NODE, 'deps');
  fs.rmSync(deps, { recursive: true, force: true });
  fs.mkdirSync(path.join(deps, 'lib'), { recursive: true });
  fs.symlinkSync(path.join(tfDir, 'include'), path.join(deps, 'include'));
  for (const [name, target] of Object.entries(LIBRARY_LINKS)) fs.symlinkSync(path.join(tfDir, target), path.join(deps, 'lib', name));
}

function whichSync(command) {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not in this PATH entry
    }
  }
  return undefined;
}

/** node-gyp as bundled with npm: tfjs-node does not depend on it, and npx would download one. */
function findNodeGyp() {
  const npmDirs = [];
  // Under `npm run`, npm_execpath is npm-cli.js itself.
  if (process.env.npm_execpath) npmDirs.push(path.resolve(path.dirname(process.env.npm_execpath), '..'));
  const npmOnPath = whichSync('npm');
  if (npmOnPath) npmDirs.push(path.resolve(path.dirname(fs.realpathSync(npmOnPath)), '..'));
  npmDirs.push(path.resolve(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm'));
  const tried = [];
  for (const dir of npmDirs) {
    const candidate = path.join(dir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (fs.existsSync(candidate)) return candidate;
    tried.push(candidate);
  }
  const prefix = spawnSync('npm', ['prefix', '-g'], { encoding: 'utf8' });
  if (prefix.status === 0) {
    const candidate = path.join(prefix.stdout.trim(), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
    if (fs.existsSync(candidate)) return candidate;
    tried.push(candidate);
  }
  throw new StepError('find node-gyp', `npm's bundled node-gyp not found; tried ${tried.join(', ')}`);
}

function compile(nodeGyp) {
  const args = [nodeGyp, 'rebuild', `--module_name=tfjs_binding`, `--module_path=${MODULE_PATH}`, '--jobs=max', '--loglevel=warn'];
  // Without local headers node-gyp would try to download them, which fails offline.
  if (fs.existsSync('/usr/include/node')) args.push('--nodedir=/usr');
  run('node-gyp rebuild', process.execPath, args, { cwd: TFJS_NODE });
  const built = path.join(TFJS_NODE, 'build', 'Release', 'tfjs_binding.node');
  if (!fs.existsSync(built)) throw new StepError('node-gyp rebuild', `${built} was not produced`);
  fs.mkdirSync(path.dirname(BINDING), { recursive: true });
  fs.copyFileSync(built, BINDING);
}

const VERIFY_SOURCE = `
const tf = await import('@tensorflow/tfjs-node');
if (tf.getBackend() !== 'tensorflow') throw new Error('active backend is ' + tf.getBackend());
const product = tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5, 6], [7, 8]])).arraySync();
if (JSON.stringify(product) !== '[[19,22],[43,50]]') throw new Error('matMul gave ' + JSON.stringify(product));
const slope = tf.grad((x) => x.square().sum())(tf.tensor1d([1, -2, 3])).arraySync();
if (JSON.stringify(slope) !== '[2,-4,6]') throw new Error('grad gave ' + JSON.stringify(slope));
console.log('tensorflow backend ok: matMul ' + JSON.stringify(product) + ', grad ' + JSON.stringify(slope));
`;

function verify() {
  run('verify', process.execPath, ['--input-type=module', '-e', VERIFY_SOURCE], {
    cwd: ROOT,
    env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '3' },
    timeout: 120_000,
  });
}

function parseArgs(argv) {
  const venvFlag = argv.indexOf('--venv');
  return { venv: path.resolve(venvFlag >= 0 ? argv[venvFlag + 1] : path.join(ROOT, '.venv')) };
}

function main() {
  const { venv } = parseArgs(process.argv.slice(2));
  const timings = [];
  const timed = (name, action) => {
    const start = performance.now();
    const value = action();
    timings.push(`${name} ${((performance.now() - start) / 1000).toFixed(1)} s`);
    return value;
  };
  const started = performance.now();
  let tfDir;
  let listAttributes = false;
  let zeroCopyReads = false;
  let releaseArrays = false;
  try {
    fs.rmSync(STATUS_FILE, { force: true });
    tfDir = timed('inputs', () => checkInputs(venv));
    timed('link', () => linkDeps(tfDir));
    const nodeGyp = timed('find node-gyp', findNodeGyp);
    // Fused kernels' list attributes (binding-list-attributes.mjs); without them the backend still works.
    const extension = timed('extend', () => extendBindingSource(path.join(TFJS_NODE, 'binding', 'tfjs_backend.cc')));
    listAttributes = extension === 'extended' || extension === 'already';
    if (!listAttributes) console.warn(`build-native-backend: building without list attributes (no fused kernels): ${extension}`);
    // Large reads without a copy (binding-zero-copy-reads.mjs); without it reads copy, as tfjs-node's do.
    const zeroCopy = timed('extend reads', () => extendBindingSourceWithZeroCopyReads(path.join(TFJS_NODE, 'binding', 'tfjs_backend.cc')));
    zeroCopyReads = zeroCopy === 'extended' || zeroCopy === 'already';
    if (!zeroCopyReads) console.warn(`build-native-backend: building with copying reads: ${zeroCopy}`);
    // Arrays read freed on request (binding-release-arrays.mjs); without it V8 frees them when it collects.
    const release = timed('extend release', () => extendBindingSourceWithReleaseArrays(path.join(TFJS_NODE, 'binding', 'tfjs_binding.cc')));
    releaseArrays = release === 'extended' || release === 'already';
    if (!releaseArrays) console.warn(`build-native-backend: building without releaseArrayBuffers: ${release}`);
    console.log(`build-native-backend: compiling tfjs_binding against ${tfDir} with ${nodeGyp}`);
    timed('compile', () => compile(nodeGyp));
    timed('verify', verify);
  } catch (error) {
    const step = error instanceof StepError ? error.step : 'unexpected error';
    writeStatus({ ok: false, step, reason: error.message, tfDir });
    console.error(`build-native-backend: FAILED at step "${step}": ${error.message}`);
    process.exitCode = 1;
    return;
  }
  writeStatus({ ok: true, tfDir, tfLibrary: libraryIdentity(tfDir), binding: BINDING, node: process.version, nodeAbi: process.versions.modules, listAttributes, zeroCopyReads, releaseArrays });
  const total = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`build-native-backend: built and verified in ${total} s (${timings.join(', ')})`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(fs.realpathSync(process.argv[1])).href) main();
