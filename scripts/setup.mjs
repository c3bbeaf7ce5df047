#!/usr/bin/env node
// Brings a checkout to a runnable state: npm packages, the Python venv, the TypeScript build and
// the native tensorflow backend. Idempotent: each step runs only when its inputs changed, so a
// second run takes about a second and prints one line. Node builtins only: it runs before
// node_modules exists.
//
// Environment: KERAS_BRIDGE_PYTHON (a Python 3.11 to create .venv with),
//              KERAS_BRIDGE_SKIP_NATIVE=1 (do not build the native tensorflow backend),
//              KERAS_BRIDGE_THIRDPARTY=0 (skip python/requirements-thirdparty.lock: keras-hub and
//              tensorflow-text, about 250 MB, for the KerasHub tests, scripts/keras_hub_census.py and
//              fixtures/models/keras_hub_models.py; installed by default, tolerated when it fails:
//              the KerasHub tests then skip).
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nativeBackendState } from './build-native-backend.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const VENV = path.join(ROOT, '.venv');
const VENV_PYTHON = path.join(VENV, 'bin', 'python');
const VENV_STAMP = path.join(VENV, '.keras-bridge-stamp');
const REQUIREMENTS = path.join(ROOT, 'python', 'requirements.lock');
const PYPROJECT = path.join(ROOT, 'python', 'pyproject.toml');
const THIRDPARTY = path.join(ROOT, 'python', 'requirements-thirdparty.lock');
const THIRDPARTY_STAMP = path.join(VENV, '.keras-bridge-thirdparty-stamp');
const PYTHON_VERSION = '3.11';

class SetupError extends Error {}

function say(message) {
  console.log(`keras-bridge setup: ${message}`);
}

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Runs a command with its output passed through; throws SetupError naming `what` on failure. */
function run(what, command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
  if (result.error) throw new SetupError(`${what}: could not start ${command}: ${result.error.message}`);
  if (result.status !== 0) throw new SetupError(`${what}: ${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
}

function ensureNpmPackages() {
  const installed = mtime(path.join(ROOT, 'node_modules', '.package-lock.json'));
  const wanted = Math.max(mtime(path.join(ROOT, 'package.json')) ?? 0, mtime(path.join(ROOT, 'package-lock.json')) ?? 0);
  if (installed !== undefined && installed >= wanted) return;
  say(installed === undefined ? 'installing npm packages' : 'package.json or package-lock.json changed: updating npm packages');
  run('npm install', 'npm', ['install', '--no-audit', '--no-fund']);
  // npm may leave the hidden lockfile untouched when nothing changed; mark it as current.
  const now = new Date();
  fs.utimesSync(path.join(ROOT, 'node_modules', '.package-lock.json'), now, now);
}

function pythonVersion(python) {
  const result = spawnSync(python, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

function findPython() {
  const override = process.env.KERAS_BRIDGE_PYTHON;
  if (override) {
    const version = pythonVersion(override);
    if (version === PYTHON_VERSION) return override;
    throw new SetupError(
      `KERAS_BRIDGE_PYTHON=${override} ${version ? `is Python ${version}` : 'does not run'}; ` +
        `it must name a Python ${PYTHON_VERSION} interpreter (python/requirements.lock pins wheels for ${PYTHON_VERSION}).`,
    );
  }
  for (const candidate of [`python${PYTHON_VERSION}`, 'python3']) {
    if (pythonVersion(candidate) === PYTHON_VERSION) return candidate;
  }
  throw new SetupError(
    `no Python ${PYTHON_VERSION} found (tried python${PYTHON_VERSION} and python3 on PATH). ` +
      `Install Python ${PYTHON_VERSION}, or set KERAS_BRIDGE_PYTHON to its path, and run npm run setup again.`,
  );
}

/** A venv whose interpreter is gone (the base Python was removed or upgraded) is recreated. */
function venvWorks() {
  return fs.existsSync(VENV_PYTHON) && pythonVersion(VENV_PYTHON) === PYTHON_VERSION;
}

/** Covers where the venv lives too: a moved checkout's editable install points at the old path. */
function venvInputsHash() {
  const hash = crypto.createHash('sha256');
  hash.update(`${VENV}\0`);
  hash.update(fs.readFileSync(REQUIREMENTS));
  hash.update('\0pyproject.toml\0');
  hash.update(fs.existsSync(PYPROJECT) ? fs.readFileSync(PYPROJECT) : 'absent');
  return hash.digest('hex');
}

function ensureVenv() {
  const wanted = venvInputsHash();
  const stamp = fs.existsSync(VENV_STAMP) ? fs.readFileSync(VENV_STAMP, 'utf8').trim() : undefined;
  if (stamp === wanted && fs.existsSync(VENV_PYTHON)) return;
  if (!venvWorks()) {
    const python = findPython();
    say(fs.existsSync(VENV) ? `recreating .venv with ${python} (its interpreter does not run)` : `creating .venv with ${python}`);
    run('creating .venv', python, ['-m', 'venv', '--clear', VENV]);
  }
  say('installing python/requirements.lock into .venv');
  const pip = ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check'];
  run('pip install -r python/requirements.lock', VENV_PYTHON, [...pip, '-r', REQUIREMENTS]);
  if (fs.existsSync(PYPROJECT)) {
    say('installing the keras_bridge Python package (editable) into .venv');
    run('pip install -e python', VENV_PYTHON, [...pip, '--no-deps', '-e', path.join(ROOT, 'python')]);
  } else {
    say('python/pyproject.toml does not exist yet: skipping the editable install of python/');
  }
  fs.writeFileSync(VENV_STAMP, `${wanted}\n`);
}

/**
 * Optional: installed only when KERAS_BRIDGE_THIRDPARTY=1. --no-deps because the lock pins every
 * package, and because tensorflow-text requires the `tensorflow` distribution, which pip would
 * install over tensorflow_cpu's files; tensorflow_cpu provides the same module at the same version.
 */
function ensureThirdParty() {
  if (process.env.KERAS_BRIDGE_THIRDPARTY === '0') return;
  const wanted = crypto.createHash('sha256').update(fs.readFileSync(THIRDPARTY)).digest('hex');
  const stamp = fs.existsSync(THIRDPARTY_STAMP) ? fs.readFileSync(THIRDPARTY_STAMP, 'utf8').trim() : undefined;
  if (stamp === wanted) return;
  say('installing python/requirements-thirdparty.lock (keras-hub, tensorflow-text: the third-party proof of issue 11) into .venv; KERAS_BRIDGE_THIRDPARTY=0 skips it');
  const result = spawnSync(VENV_PYTHON, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '--no-deps', '-r', THIRDPARTY], { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    // Optional: its tests skip without it; everything else works.
    say(`pip could not install python/requirements-thirdparty.lock (exit ${result.status ?? result.signal}); the KerasHub tests will be skipped`);
    return;
  }
  fs.writeFileSync(THIRDPARTY_STAMP, `${wanted}\n`);
}

/**
 * Compiled files whose TypeScript source is gone (renamed or deleted since the last build): tsc
 * leaves them in dist, where tests that import every module of a folder (the layer harness) would
 * still load them. Only tsc's own outputs are removed.
 */
function removeStaleBuildOutputs() {
  const dist = path.join(ROOT, 'dist');
  const outputs = /(\.d\.ts\.map|\.d\.ts|\.js\.map|\.js)$/;
  const walk = (dir) => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (outputs.test(entry.name)) {
        const source = path.join(ROOT, path.relative(dist, full).replace(outputs, '.ts'));
        if (!fs.existsSync(source)) fs.rmSync(full);
      }
    }
  };
  for (const top of ['src', 'test', 'scripts']) walk(path.join(dist, top));
}

function buildTypeScript() {
  removeStaleBuildOutputs();
  const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: ROOT, encoding: 'utf8' });
  if (result.status === 0) return;
  process.stdout.write(result.stdout ?? '');
  process.stderr.write(result.stderr ?? '');
  throw new SetupError(`the TypeScript build (tsc -p tsconfig.json) failed with exit code ${result.status ?? result.signal}; see its errors above.`);
}

/** Returns the list of usable backends for the closing line. Never throws: wasm and cpu still work. */
function ensureNativeBackend() {
  if (process.env.KERAS_BRIDGE_SKIP_NATIVE === '1') {
    say('KERAS_BRIDGE_SKIP_NATIVE=1: not building the native tensorflow backend');
    return ['cpu', 'wasm'];
  }
  const state = nativeBackendState(VENV);
  if (state.ready) return ['cpu', 'wasm', 'tensorflow'];
  say(`building the native tensorflow backend (${state.why})`);
  const build = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'build-native-backend.mjs'), '--venv', VENV], { cwd: ROOT, stdio: 'inherit' });
  if (build.status === 0) return ['cpu', 'wasm', 'tensorflow'];
  say(
    'the native tensorflow backend could not be built (build-native-backend.mjs ' +
      `exited with ${build.status ?? build.signal ?? build.error?.message}; the failing step is named above, and ` +
      'node_modules/.cache/keras-bridge/native-backend.json records it). Backend "tensorflow" is unavailable; ' +
      'backends "wasm" and "cpu" still work and everything else is set up. To retry, fix the cause ' +
      '(see docs/native-backend.md) and run `node scripts/build-native-backend.mjs` or `npm run setup`; ' +
      'set KERAS_BRIDGE_SKIP_NATIVE=1 to stop trying.',
  );
  return ['cpu', 'wasm'];
}

const CHROMIUM = process.env.KERAS_BRIDGE_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Debian's chromium, for loading converted models in a real browser (tests, browser backends).
 * Installed with apt-get when we are root; otherwise setup says how. Never fails setup.
 */
function ensureChromium() {
  if (process.env.KERAS_BRIDGE_SKIP_BROWSER === '1' || fs.existsSync(CHROMIUM)) return fs.existsSync(CHROMIUM);
  const aptGet = spawnSync('sh', ['-c', 'command -v apt-get'], { encoding: 'utf8' }).stdout.trim();
  if (!aptGet || process.getuid?.() !== 0) {
    say(`${CHROMIUM} is missing: browser tests and backends need Debian's chromium (apt-get install -y chromium, as root).`);
    return false;
  }
  say('installing Debian chromium (apt-get install -y chromium) for browser loading and backends');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync(aptGet, ['update', '-qq'], { stdio: 'inherit', env });
  const install = spawnSync(aptGet, ['install', '-y', '-qq', 'chromium'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (install.status !== 0) say(`apt-get install chromium failed (exit ${install.status}); browser tests will fail until it is installed.`);
  return fs.existsSync(CHROMIUM);
}

function main() {
  const started = performance.now();
  try {
    ensureNpmPackages();
    ensureVenv();
    ensureThirdParty();
    buildTypeScript();
  } catch (error) {
    if (!(error instanceof SetupError)) throw error;
    console.error(`keras-bridge setup: FAILED: ${error.message}`);
    process.exitCode = 1;
    return;
  }
  const backends = ensureNativeBackend();
  if (ensureChromium()) backends.push('chromium');
  say(`ready in ${((performance.now() - started) / 1000).toFixed(1)} s (backends: ${backends.join(', ')})`);
}

main();
