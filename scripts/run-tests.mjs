#!/usr/bin/env node
// Runs both test suites, mocha on the compiled TypeScript tests and pytest on python/tests, with
// their output live, then closes with one line of totals: `N passed, N failed[, N skipped]`.
// Exit 1 when a test failed, a runner crashed without results, or no test ran at all.
//
//   node scripts/run-tests.mjs [--only test/DIR] [-- <mocha args, e.g. --grep wasm>]
//
// --only test/DIR: only the mocha tests under that folder, and no pytest (`npm run test:zoo` runs
// test/applications, the keras.applications zoo, alone; `npm test` runs it with everything else).
//
// Run `npm run setup` (or `npm test`, which does both) first: this script builds nothing.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Test sources under test/ (or `only`) and, compiled, under dist/test/; stale compiled tests are left out. */
function mochaTestFiles(only) {
  const files = [];
  const walk = (dir) => {
    if (!fs.existsSync(dir)) return;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.test.ts')) files.push(full);
    }
  };
  walk(path.join(ROOT, only ?? 'test'));
  const compiled = [];
  for (const source of files.sort()) {
    const js = path.join(ROOT, 'dist', path.relative(ROOT, source)).replace(/\.ts$/, '.js');
    if (fs.existsSync(js)) compiled.push(js);
    else console.log(`run-tests: ${path.relative(ROOT, source)} has no compiled ${path.relative(ROOT, js)}; run npm run setup`);
  }
  return compiled;
}

/** @returns {{name: string, passed: number, failed: number, skipped: number, crash?: string}} */
function runMocha(tmp, extraArgs, only) {
  const result = { name: 'mocha', passed: 0, failed: 0, skipped: 0 };
  const files = mochaTestFiles(only);
  if (files.length === 0) {
    console.log('run-tests: no mocha tests (no test/**/*.test.ts compiled under dist/test)');
    return result;
  }
  console.log(`run-tests: mocha on ${files.length} file(s) in dist/test`);
  const summaryFile = path.join(tmp, 'mocha-summary.json');
  const mocha = path.join(ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js');
  const reporter = path.join(ROOT, 'scripts', 'mocha-summary-reporter.cjs');
  // --exit: a backend's worker threads or native handles must not keep a finished run alive.
  const args = [mocha, '--reporter', reporter, '--timeout', '120000', '--exit', ...extraArgs, ...files];
  const run = spawnSync(process.execPath, args, {
    cwd: ROOT,
    stdio: 'inherit',
    env: { ...process.env, KERAS_BRIDGE_MOCHA_SUMMARY: summaryFile },
  });
  if (!fs.existsSync(summaryFile)) {
    result.crash = `mocha ended (${describeExit(run)}) without reporting results`;
    return result;
  }
  const { passes, failures, pending } = JSON.parse(fs.readFileSync(summaryFile, 'utf8'));
  Object.assign(result, { passed: passes, failed: failures, skipped: pending });
  if (run.status !== 0 && failures === 0) result.crash = `mocha reported no failure but ended with ${describeExit(run)}`;
  return result;
}

/** Sums an attribute over the <testsuite> elements of a JUnit XML report. */
function junitTotal(xml, attribute) {
  let total = 0;
  for (const [element] of xml.matchAll(/<testsuite\b[^>]*>/g)) {
    const value = element.match(new RegExp(`\\s${attribute}="(\\d+)"`));
    if (value) total += Number(value[1]);
  }
  return total;
}

function runPytest(tmp) {
  const result = { name: 'pytest', passed: 0, failed: 0, skipped: 0 };
  if (!fs.existsSync(path.join(ROOT, 'python', 'tests'))) {
    console.log('run-tests: no pytest tests (python/tests does not exist)');
    return result;
  }
  const python = path.join(ROOT, '.venv', 'bin', 'python');
  if (!fs.existsSync(python)) {
    result.crash = '.venv/bin/python is missing; run npm run setup';
    return result;
  }
  console.log('run-tests: pytest on python/tests');
  const junit = path.join(tmp, 'pytest-junit.xml');
  const run = spawnSync(python, ['-m', 'pytest', 'python/tests', '-q', '-p', 'no:cacheprovider', '--junitxml', junit], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  if (!fs.existsSync(junit)) {
    result.crash = `pytest ended (${describeExit(run)}) without writing its JUnit report`;
    return result;
  }
  const xml = fs.readFileSync(junit, 'utf8');
  const [tests, failures, errors, skipped] = ['tests', 'failures', 'errors', 'skipped'].map((a) => junitTotal(xml, a));
  Object.assign(result, { passed: tests - failures - errors - skipped, failed: failures + errors, skipped });
  // 0: all passed, 1: some failed, 5: none collected; anything else is pytest itself failing.
  if (![0, 1, 5].includes(run.status) && result.failed === 0) result.crash = `pytest reported no failure but ended with ${describeExit(run)}`;
  return result;
}

function describeExit(run) {
  if (run.error) return `could not start: ${run.error.message}`;
  return run.signal ? `signal ${run.signal}` : `exit code ${run.status}`;
}

function main() {
  let args = process.argv.slice(2);
  let only;
  if (args[0] === '--only') {
    only = args[1];
    if (!only || !fs.existsSync(path.join(ROOT, only))) {
      console.log(`run-tests: --only ${only ?? ''}: no such folder`);
      process.exitCode = 1;
      return;
    }
    args = args.slice(2);
  }
  const extraArgs = args.filter((arg, index) => !(index === 0 && arg === '--'));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'keras-bridge-tests-'));
  let results;
  try {
    results = only ? [runMocha(tmp, extraArgs, only)] : [runMocha(tmp, extraArgs), runPytest(tmp)];
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log('');
  for (const r of results) {
    console.log(`run-tests: ${r.name}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`);
    // A crashed runner counts as one failure so that the totals line cannot read as all green.
    if (r.crash) {
      console.log(`run-tests: ${r.name} CRASHED: ${r.crash} (counted as 1 failure)`);
      r.failed += 1;
    }
  }
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  const skipped = results.reduce((n, r) => n + r.skipped, 0);
  if (passed + failed === 0) console.log('run-tests: no test ran: that is a failure');
  console.log(skipped > 0 ? `${passed} passed, ${failed} failed, ${skipped} skipped` : `${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 || passed + failed === 0 ? 1 : 0;
}

main();
